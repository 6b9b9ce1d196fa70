import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { AccountChanges, Adresse, Email, Name, Password, Role, Statut, Telephone, Uuid } from '../accounts/model.js';
import { Page, Search, Sort } from '../lists.js';

/** One entry of a list of accounts (users, gestionnaires). */
export const UserSummary = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: Role,
    prenom: Type.String(),
    nom: Type.String(),
    statut: Statut,
    cree_le: Type.String({ format: 'date-time' }),
  },
  { $id: 'PtitsPasUserSummary' },
);

/** One account, as shown to staff. */
export const UserDetail = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: Role,
    prenom: Type.String(),
    nom: Type.String(),
    telephone: Nullable(Type.String()),
    adresse: Nullable(Type.String()),
    statut: Statut,
    cree_le: Type.String({ format: 'date-time' }),
  },
  { $id: 'PtitsPasUser' },
);

/** Staff accounts created by a super admin; families and childminders have their own routes. */
const STAFF_ROLES = ['super_admin', 'administrateur', 'gestionnaire'] as const;

export const NewStaffUser = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  role: StringEnum(STAFF_ROLES),
  prenom: Name,
  nom: Name,
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
});
export const NewGestionnaire = Type.Omit(NewStaffUser, ['role']);

export const UserChanges = AccountChanges;

/** Accounts sort on these (and the same with `-`), newest first by default. */
const USER_SORTS = ['cree_le', 'nom', 'prenom', 'email'] as const;
export const UserListQuery = Type.Object({
  ...Page,
  sort: Sort(USER_SORTS, '-cree_le'),
  statut: Type.Optional(Statut),
  role: Type.Optional(Role),
  search: Type.Optional(Search),
});
export type UserListOptions = Static<typeof UserListQuery>;
