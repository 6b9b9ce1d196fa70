import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../../shared/schemas.js';
import { Name, Uuid } from '../accounts/model.js';
import { Page, Search, Sort } from '../lists.js';

/** What a valid child is (docs/ptitspas.md, Enfants): the API's bodies and the CSV import check these. */
const STATUTS_ENFANT = ['actif', 'scolarise', 'inactif'] as const;
const Genre = StringEnum(['H', 'F'] as const, { description: 'Obligatoire (v1.3)' });
const StatutEnfant = StringEnum(STATUTS_ENFANT);
const DateNaissance = Type.String({ format: 'date', description: 'Pas dans le futur' });

/** A child as shown. */
export const Enfant = Type.Object(
  {
    id: Uuid,
    prenom: Type.String(),
    nom: Type.String(),
    genre: Genre,
    date_naissance: Type.String({ format: 'date' }),
    statut: StatutEnfant,
    consentement_photo: Type.Boolean(),
  },
  { $id: 'PtitsPasEnfant' },
);
export type Enfant = Static<typeof Enfant>;

/** A new child: `statut` is `actif` and `consentement_photo` false unless given. */
export const NewEnfant = Type.Object({
  prenom: Name,
  nom: Name,
  genre: Genre,
  date_naissance: DateNaissance,
  statut: Type.Optional(StatutEnfant),
  consentement_photo: Type.Optional(Type.Boolean()),
});
export type NewEnfant = Static<typeof NewEnfant>;

/** The fields a change writes; at least one. */
export const EnfantChanges = Type.Object(
  {
    prenom: Type.Optional(Name),
    nom: Type.Optional(Name),
    genre: Type.Optional(Genre),
    date_naissance: Type.Optional(DateNaissance),
    statut: Type.Optional(StatutEnfant),
    consentement_photo: Type.Optional(Type.Boolean()),
  },
  { minProperties: 1 },
);
export type EnfantChanges = Static<typeof EnfantChanges>;

/** A page of children: filters and order. */
export const EnfantListOptions = Type.Object({
  ...Page,
  sort: Sort(['cree_le', 'nom', 'prenom', 'date_naissance'], '-cree_le'),
  statut: Type.Optional(StatutEnfant),
  search: Type.Optional(Search),
});
export type EnfantListOptions = Static<typeof EnfantListOptions>;
