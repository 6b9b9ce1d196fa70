import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { Uuid } from '../accounts/model.js';
import { Page } from '../lists.js';

const TYPES = [
  'arrivee',
  'depart',
  'repas',
  'biberon',
  'sieste',
  'change',
  'activite',
  'humeur',
  'temperature',
  'medicament',
  'incident',
  'photo',
  'note',
] as const;
const TypeEvenement = StringEnum(TYPES);
const Timestamp = Type.String({ format: 'date-time' });
const Note = Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' });
/** Any keys at this level; checked per type by details.ts (a closed schema per type). */
const DetailsBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Selon le type (voir la documentation) ; {} pour arrivee, depart, photo, note',
});

export const EvenementBody = Type.Object({
  id_enfant: Uuid,
  type: TypeEvenement,
  survenu_le: Type.Optional(Timestamp),
  details: DetailsBody,
  note: Type.Optional(Nullable(Note)),
  id_upload: Type.Optional(Nullable(Uuid)),
});
export type EvenementBody = Static<typeof EvenementBody>;

/** PATCH: the time, the details (of the same type), the note, the picture. */
export const EvenementChanges = Type.Object(
  {
    survenu_le: Type.Optional(Timestamp),
    details: Type.Optional(DetailsBody),
    note: Type.Optional(Nullable(Note)),
    id_upload: Type.Optional(Nullable(Uuid)),
  },
  { minProperties: 1 },
);
export type EvenementChanges = Static<typeof EvenementChanges>;

const EvenementFields = {
  id: Uuid,
  id_enfant: Uuid,
  id_auteur: Nullable(Uuid),
  type: TypeEvenement,
  survenu_le: Timestamp,
  details: Type.Record(Type.String(), Type.Unknown()),
  note: Nullable(Type.String()),
  id_upload: Nullable(Uuid),
  cree_le: Timestamp,
};
export const Evenement = Type.Object(EvenementFields, { $id: 'PtitsPasEvenement' });
export type Evenement = Static<typeof Evenement>;

export const EvenementListOptions = Type.Object({
  ...Page,
  id_enfant: Type.Optional(Uuid),
  date: Type.Optional(Type.String({ format: 'date', description: 'Un jour (Europe/Paris)' })),
  type: Type.Optional(TypeEvenement),
  depuis: Type.Optional(Timestamp),
  jusqua: Type.Optional(Timestamp),
  apres: Type.Optional(
    Type.String({
      format: 'uuid',
      description:
        'Curseur : les événements qui suivent celui-ci (même ordre), sans page ; X-Total-Count compte alors ceux qui restent',
    }),
  ),
});
export type EvenementListOptions = Static<typeof EvenementListOptions>;

/** An event inside the journal (a response may hold a registered schema only once). */
const EvenementRef = Type.Object(EvenementFields);

export const Journal = Type.Object(
  {
    date: Type.String({ format: 'date' }),
    arrivee: Nullable(Timestamp),
    depart: Nullable(Timestamp),
    sieste_minutes: Type.Integer(),
    biberons_ml: Type.Integer(),
    repas: Type.Array(EvenementRef),
    evenements: Type.Array(EvenementRef),
  },
  { description: 'La journée d’un enfant (Europe/Paris)' },
);
export type Journal = Static<typeof Journal>;
