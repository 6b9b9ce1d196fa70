import { Invalid } from '../../errors.js';

/** Rules a schema cannot express, answered like schema errors: invalid, with the field named. */
export function assertConfirmed(password: string, confirmation: string | undefined): void {
  if (password !== confirmation) {
    throw new Invalid('La confirmation du mot de passe ne correspond pas.', {
      password: ['La confirmation du mot de passe ne correspond pas.'],
    });
  }
}

export function assertPastDate(field: string, value: string | undefined): void {
  if (value === undefined) return;
  const today = new Date().toISOString().slice(0, 10);
  if (value >= today || value < '1900-01-01') {
    const message = `Le champ ${field} doit être une date passée.`;
    throw new Invalid(message, { [field]: [message] });
  }
}

export function emailTaken(): Invalid {
  return new Invalid('Cette adresse e-mail est déjà utilisée.', {
    email: ['Cette adresse e-mail est déjà utilisée.'],
  });
}

/** E-mail addresses are compared and stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
