import { unprocessable } from '../../../plugins/errors.js';

/** Rules a schema cannot express, answered like schema errors: 422 with the field named. */
export function assertConfirmed(password: string, confirmation: string | undefined): void {
  if (password !== confirmation) {
    throw unprocessable('La confirmation du mot de passe ne correspond pas.', {
      password: ['La confirmation du mot de passe ne correspond pas.'],
    });
  }
}

export function assertPastDate(field: string, value: string | undefined): void {
  if (value === undefined) return;
  const today = new Date().toISOString().slice(0, 10);
  if (value >= today || value < '1900-01-01') {
    const message = `Le champ ${field} doit être une date passée.`;
    throw unprocessable(message, { [field]: [message] });
  }
}

export function emailTaken() {
  return unprocessable('Cette adresse e-mail est déjà utilisée.', {
    email: ['Cette adresse e-mail est déjà utilisée.'],
  });
}

/** E-mail addresses are compared and stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
