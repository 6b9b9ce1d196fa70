import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database } from '../../../db/schema.js';
import { conflict } from '../../../plugins/errors.js';

export const AGREMENT_TAKEN = 'Ce numéro d’agrément est déjà utilisé.';
/** A childminder who does not say how many children she may keep: the usual agreement's four. */
export const DEFAULT_NB_MAX_ENFANTS = 4;

export interface NewChildminder {
  numero_agrement: string;
  date_agrement: string;
  nb_max_enfants?: number;
  ville_residence?: string;
}

/** The childminder profile of a new account; every place is free at first. */
export async function insertAssistanteMaternelle(db: Kysely<Database>, userId: string, fields: NewChildminder) {
  const places = fields.nb_max_enfants ?? DEFAULT_NB_MAX_ENFANTS;
  try {
    await db
      .insertInto('ptitspas.assistantes_maternelles')
      .values({
        id_utilisateur: userId,
        numero_agrement: fields.numero_agrement.trim(),
        date_agrement: fields.date_agrement,
        nb_max_enfants: places,
        place_disponible: places,
        ville_residence: fields.ville_residence?.trim() ?? null,
        biographie: null,
        annee_experience: null,
        specialite: null,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err, 'assistantes_maternelles_numero_agrement_key')) throw conflict(AGREMENT_TAKEN);
    throw err;
  }
}
