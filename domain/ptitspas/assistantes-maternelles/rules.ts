import { Invalid } from '../../errors.js';
import type { ChildminderProfile } from './model.js';
import { isValidNir, type NirCipher, normalizeNir } from './nir.js';

export const AM_NOT_FOUND = 'Assistante maternelle non trouvée';
export const AGREMENT_TAKEN = 'Ce numéro d’agrément est déjà utilisé.';
/** A childminder who does not say how many children she may keep: the usual agreement's four. */
const DEFAULT_NB_MAX_ENFANTS = 4;

const today = () => new Date().toISOString().slice(0, 10);

// Each rule's field message is what the CSV import reports for a row that breaks it.
export function assertAgrementDate(date: string | undefined): void {
  if (date && date > today()) {
    throw new Invalid('date_agrement ne peut pas être dans le futur', {
      date_agrement: ['Le champ date_agrement ne peut pas être dans le futur.'],
    });
  }
}

export function assertPlaces(max: number, free: number): void {
  if (free < 0 || free > max) {
    throw new Invalid('place_disponible doit être comprise entre 0 et nb_max_enfants', {
      place_disponible: ['Le champ place_disponible doit être compris entre 0 et nb_max_enfants.'],
    });
  }
}

/** A new profile's places: every place is free unless said otherwise, within the maximum. */
export function placesOf(fields: Pick<ChildminderProfile, 'nb_max_enfants' | 'place_disponible'>) {
  const max = fields.nb_max_enfants ?? DEFAULT_NB_MAX_ENFANTS;
  return { max, free: fields.place_disponible ?? max };
}

/** The rules a new childminder's profile obeys beyond its shape, for the API and the CSV import alike. */
export function checkChildminder(fields: ChildminderProfile): void {
  assertAgrementDate(fields.date_agrement);
  const { max, free } = placesOf(fields);
  assertPlaces(max, free);
}

/** The NIR as stored: checked (shape and key), then encrypted for the row. */
export function encryptedNir(cipher: NirCipher, input: string, rowId: string) {
  const nir = normalizeNir(input);
  if (!isValidNir(nir))
    throw new Invalid('nir_chiffre n’est pas un numéro de sécurité sociale valide (15 caractères, clé)');
  return cipher.encrypt(nir, rowId);
}
