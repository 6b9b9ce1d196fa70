import { Type, type Static } from '@sinclair/typebox';
import { PTITSPAS_ROLES } from '../../../domain/ptitspas/caller.js';
import { Nullable, StringEnum } from '../../schemas.js';
import { Page, Search, Sort, TotalHeader } from '../lists.js';

export const STATUTS = ['en_attente', 'actif', 'suspendu'] as const;
export const Role = StringEnum(PTITSPAS_ROLES, { description: 'Rôle, du plus élevé au plus restreint' });
export const Statut = StringEnum(STATUTS);
export const Uuid = Type.String({ format: 'uuid' });

// Text fields refuse blank values; lengths bound what a form could reasonably hold.
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
export const Telephone = Type.String({
  pattern: '^\\+?[0-9][0-9 .-]{5,19}$',
  description: 'Un seul numéro (v1.3), par exemple 0601020304 ou +33 6 01 02 03 04',
});
export const Adresse = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' });

export const UserIdParams = Type.Object({ id: Uuid });

/** One entry of a list (GET /users, GET /gestionnaires). */
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

/** One account (GET /users/:id, GET /gestionnaires/:id, PATCH answers). */
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

export const CreatedUser = Type.Object({ id: Uuid, email: Type.String(), role: Role }, { $id: 'PtitsPasCreatedUser' });
export const Message = Type.Object({ message: Type.String() }, { $id: 'PtitsPasMessage' });
export const StatusChanged = Type.Object({ message: Type.String(), userId: Uuid }, { $id: 'PtitsPasStatusChanged' });

/** Staff accounts created by a super admin; families and childminders have their own routes. */
export const STAFF_ROLES = ['super_admin', 'administrateur', 'gestionnaire'] as const;

export const CreateUserBody = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  role: StringEnum(STAFF_ROLES),
  prenom: Name,
  nom: Name,
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
});
export const CreateGestionnaireBody = Type.Omit(CreateUserBody, ['role']);
export type NewUserFields = Omit<Static<typeof CreateUserBody>, 'role' | 'password'>;

export const UpdateUserBody = Type.Object(
  {
    prenom: Type.Optional(Name),
    nom: Type.Optional(Name),
    telephone: Type.Optional(Nullable(Telephone)),
    adresse: Type.Optional(Nullable(Adresse)),
  },
  { minProperties: 1 },
);
export type UserChanges = Static<typeof UpdateUserBody>;

export const StatusBody = Type.Object({
  comment: Type.Optional(Type.String({ maxLength: 1000 })),
});

/** Accounts sort on these (and the same with `-`), newest first by default. */
export const USER_SORTS = ['cree_le', 'nom', 'prenom', 'email'] as const;
export const ListQuery = Type.Object({
  ...Page,
  sort: Sort(USER_SORTS, '-cree_le'),
  statut: Type.Optional(Statut),
  role: Type.Optional(Role),
  search: Type.Optional(Search),
});
export type ListOptions = Static<typeof ListQuery>;
export { TotalHeader };
