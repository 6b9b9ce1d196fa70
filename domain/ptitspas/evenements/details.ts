import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { EvenementType } from '../../../db/schema-ptitspas.js';
import { Invalid } from '../../errors.js';
import { StringEnum } from '../../shared/schemas.js';
import { fieldErrors } from '../../shared/validation-messages.js';

/**
 * The `details` of each event type (ptitspas-evolutions.md, Événements), closed: a key the type
 * does not have is refused, like a missing or out-of-range one (400 naming the field).
 */
const Texte = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
const Instant = Type.String({ format: 'date-time' });

const DETAILS = {
  arrivee: Type.Object({}),
  depart: Type.Object({}),
  repas: Type.Object({ quantite: StringEnum(['tout', 'moitie', 'peu', 'rien'] as const) }),
  biberon: Type.Object({ quantite_ml: Type.Integer({ minimum: 0, maximum: 500 }) }),
  sieste: Type.Object({ debut: Instant, fin: Instant }),
  change: Type.Object({ selle: Type.Boolean() }),
  activite: Type.Object({ libelle: Texte(200) }),
  humeur: Type.Object({ humeur: StringEnum(['joyeux', 'calme', 'fatigue', 'grognon', 'triste'] as const) }),
  temperature: Type.Object({ celsius: Type.Number({ minimum: 34, maximum: 43 }) }),
  medicament: Type.Object({ nom: Texte(100), dose: Texte(100) }),
  incident: Type.Object({
    description: Texte(2000),
    gravite: StringEnum(['mineur', 'a_surveiller', 'grave'] as const),
  }),
  photo: Type.Object({}),
  note: Type.Object({}),
} satisfies Record<EvenementType, TSchema>;

export type Details<T extends EvenementType> = Static<(typeof DETAILS)[T]>;

const ajv = new Ajv({ allErrors: true });
// ajv-formats' CommonJS default export is typed as its module object.
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validators = Object.fromEntries(
  Object.entries(DETAILS).map(([type, schema]) => [type, ajv.compile({ ...schema, additionalProperties: false })]),
) as Record<EvenementType, ReturnType<typeof ajv.compile>>;

/** `details` as `type` has them, or Invalid naming each wrong field (`details.quantite_ml`, …). */
export function checkDetails(type: EvenementType, details: Record<string, unknown>): void {
  const validate = validators[type];
  if (validate(details)) {
    if (type === 'sieste') {
      const { debut, fin } = details as Details<'sieste'>;
      if (Date.parse(fin) <= Date.parse(debut)) {
        throw new Invalid('La fin de la sieste doit suivre son début', {
          'details.fin': ['La fin de la sieste doit suivre son début.'],
        });
      }
    }
    return;
  }
  const errors = fieldErrors(validate.errors ?? [], 'details');
  const prefixed = Object.fromEntries(
    Object.entries(errors).map(([field, messages]) => [field === 'details' ? field : `details.${field}`, messages]),
  );
  // The PtitsPas error shape carries a message only: it names each field.
  throw new Invalid(
    `Détails invalides pour un événement « ${type} » : ${Object.values(prefixed).flat().join(' ')}`,
    prefixed,
  );
}
