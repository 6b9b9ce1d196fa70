import { Invalid } from '../../errors.js';
import type { EnfantChanges, NewEnfant } from './model.js';

export const ENFANT_NOT_FOUND = 'Enfant non trouvé';

/** Today in UTC as YYYY-MM-DD. */
const today = () => new Date().toISOString().slice(0, 10);

/**
 * The rules a child's fields obey beyond their shape (model.ts), for the API and the CSV import
 * alike: the birth date is not in the future. The field message is what the import reports.
 */
export function checkEnfant(fields: NewEnfant | EnfantChanges): void {
  if (fields.date_naissance && fields.date_naissance > today()) {
    throw new Invalid('date_naissance ne peut pas être dans le futur', {
      date_naissance: ['Le champ date_naissance ne peut pas être dans le futur.'],
    });
  }
}
