import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';
import { Adresse, Email, Name, Password, Statut, Telephone, Uuid } from '../accounts/model.js';
import { Page, Search, Sort } from '../lists.js';

const Utilisateur = Type.Object({
  email: Type.String(),
  prenom: Type.String(),
  nom: Type.String(),
  telephone: Nullable(Type.String()),
  statut: Statut,
});

/** A parent, keyed by their account id, with the account's contact fields. */
export const Parent = Type.Object(
  { id_utilisateur: Uuid, id_co_parent: Nullable(Uuid), utilisateur: Utilisateur },
  { $id: 'PtitsPasParent' },
);

/** A new parent account (active), linked to an existing co-parent when `id_co_parent` is given. */
export const NewParent = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  prenom: Name,
  nom: Name,
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
  id_co_parent: Type.Optional(Uuid),
});
export type NewParent = Static<typeof NewParent>;

/** `id_co_parent` links (or unlinks, null) both parents; the account's contact fields. */
export const ParentChanges = Type.Object(
  {
    id_co_parent: Type.Optional(Nullable(Uuid)),
    prenom: Type.Optional(Name),
    nom: Type.Optional(Name),
    telephone: Type.Optional(Nullable(Telephone)),
    adresse: Type.Optional(Nullable(Adresse)),
  },
  { minProperties: 1 },
);
export type ParentChanges = Static<typeof ParentChanges>;

export const ParentListOptions = Type.Object({
  ...Page,
  sort: Sort(['cree_le', 'nom', 'prenom', 'email'], '-cree_le'),
  statut: Type.Optional(Statut),
  search: Type.Optional(Search),
});
export type ParentListOptions = Static<typeof ParentListOptions>;
