import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';
import { Adresse, Email, Name, Password, Statut, Telephone, Uuid } from '../accounts/model.js';
import { Page, Search, Sort } from '../lists.js';

const NumeroAgrement = Type.String({ minLength: 1, maxLength: 50, pattern: '\\S' });
const DateAgrement = Type.String({ format: 'date', description: 'Obligatoire (v1.3), pas dans le futur' });
const Places = Type.Integer({ minimum: 1, maximum: 10 });
const PlaceDisponible = Type.Integer({ minimum: 0, maximum: 10, description: 'Entre 0 et nb_max_enfants' });
const Ville = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Biographie = Type.String({ maxLength: 2000 });
const Experience = Type.Integer({ minimum: 0, maximum: 60 });
const Specialite = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Nir = Type.String({
  minLength: 15,
  maxLength: 21,
  description: 'Numéro de sécurité sociale (15 caractères, clé vérifiée) ; chiffré au repos',
});

const Utilisateur = Type.Object({ email: Type.String(), prenom: Type.String(), nom: Type.String() });

export const AssistanteMaternelleSummary = Type.Object(
  {
    id_utilisateur: Uuid,
    numero_agrement: Type.String(),
    nb_max_enfants: Type.Integer(),
    place_disponible: Type.Integer(),
    disponible: Type.Boolean(),
    ville_residence: Nullable(Type.String()),
    utilisateur: Utilisateur,
  },
  { $id: 'PtitsPasAssistanteMaternelleSummary' },
);

export const AssistanteMaternelle = Type.Object(
  {
    id_utilisateur: Uuid,
    numero_agrement: Type.String(),
    nir_chiffre: Nullable(Type.String({ description: 'En clair, pour super_admin et gestionnaire seulement' })),
    nb_max_enfants: Type.Integer(),
    place_disponible: Type.Integer(),
    biographie: Nullable(Type.String()),
    disponible: Type.Boolean(),
    ville_residence: Nullable(Type.String()),
    date_agrement: Type.String({ format: 'date' }),
    annee_experience: Nullable(Type.Integer()),
    specialite: Nullable(Type.String()),
    utilisateur: Type.Object({
      email: Type.String(),
      prenom: Type.String(),
      nom: Type.String(),
      telephone: Nullable(Type.String()),
      statut: Statut,
    }),
  },
  { $id: 'PtitsPasAssistanteMaternelle' },
);

/** A childminder's own fields (beyond her account's): what her profile row holds. */
export const ChildminderProfile = Type.Object({
  numero_agrement: NumeroAgrement,
  date_agrement: DateAgrement,
  nb_max_enfants: Type.Optional(Places),
  place_disponible: Type.Optional(PlaceDisponible),
  disponible: Type.Optional(Type.Boolean()),
  ville_residence: Type.Optional(Ville),
  biographie: Type.Optional(Biographie),
  annee_experience: Type.Optional(Experience),
  specialite: Type.Optional(Specialite),
  nir_chiffre: Type.Optional(Nir),
});
export type ChildminderProfile = Static<typeof ChildminderProfile>;

/** A new childminder account (active) and its profile. */
export const NewAssistanteMaternelle = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  prenom: Name,
  nom: Name,
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
  ...ChildminderProfile.properties,
});
export type NewAssistanteMaternelle = Static<typeof NewAssistanteMaternelle>;

/** `null` clears an optional field; the NIR too. */
export const AssistanteMaternelleChanges = Type.Object(
  {
    numero_agrement: Type.Optional(NumeroAgrement),
    date_agrement: Type.Optional(DateAgrement),
    nb_max_enfants: Type.Optional(Places),
    place_disponible: Type.Optional(PlaceDisponible),
    disponible: Type.Optional(Type.Boolean()),
    ville_residence: Type.Optional(Nullable(Ville)),
    biographie: Type.Optional(Nullable(Biographie)),
    annee_experience: Type.Optional(Nullable(Experience)),
    specialite: Type.Optional(Nullable(Specialite)),
    nir_chiffre: Type.Optional(Nullable(Nir)),
  },
  { minProperties: 1 },
);
export type AssistanteMaternelleChanges = Static<typeof AssistanteMaternelleChanges>;

export const AssistanteMaternelleListOptions = Type.Object({
  ...Page,
  sort: Sort(['cree_le', 'nom', 'ville_residence', 'place_disponible'], 'nom'),
  statut: Type.Optional(Statut),
  ville_residence: Type.Optional(Type.String({ maxLength: 100, description: 'Sans tenir compte de la casse' })),
  disponible: Type.Optional(Type.Boolean()),
  search: Type.Optional(Search),
});
export type AssistanteMaternelleListOptions = Static<typeof AssistanteMaternelleListOptions>;
