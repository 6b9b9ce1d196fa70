import { Invalid } from '../../errors.js';

/**
 * A date that must lie in the past (a birth date): Invalid on the field otherwise, answered like
 * a schema error. The same rule as routes/medreport/users/rules.ts's, for the records.
 */
export function assertPastDate(field: string, value: string | undefined): void {
  if (value === undefined) return;
  const today = new Date().toISOString().slice(0, 10);
  if (value >= today || value < '1900-01-01') {
    const message = `Le champ ${field} doit être une date passée.`;
    throw new Invalid(message, { [field]: [message] });
  }
}
