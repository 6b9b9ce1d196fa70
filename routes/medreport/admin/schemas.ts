import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../schemas.js';
import { BirthDate, Email, Name } from '../users/schemas.js';

const Roles = Type.Array(StringEnum(['owner', 'doctor', 'admin']), {
  description: 'The organization role (if any), and `admin` for a platform administrator',
});
const Status = StringEnum(['active', 'suspended']);
const Timestamp = Type.String({ format: 'date-time' });

export const UserIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The user’s `id`' }),
});

export const UsersQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  search: Type.Optional(
    Type.String({
      maxLength: 255,
      description: 'Part of the name, e-mail, speciality or order number; case and accents ignored',
    }),
  ),
  status: Type.Optional(Status),
  role: Type.Optional(StringEnum(['owner', 'doctor', 'admin'])),
  organization_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
});

/** The spec's AdminUser (ids as strings, `createdAt`), with the roles and the organization. */
const userFields = {
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  status: Status,
  createdAt: Timestamp,
  phone: Nullable(Type.String()),
  address: Nullable(Type.String()),
  speciality: Nullable(Type.String()),
  medical_order_number: Nullable(Type.String()),
  roles: Roles,
  organization_id: Nullable(Type.String()),
};

export const AdminUserSummary = Type.Object(userFields);

export const AdminUser = Type.Object({
  ...userFields,
  birth_date: Nullable(Type.String({ format: 'date' })),
  organization_name: Nullable(Type.String()),
});

export const UsersPage = Type.Object({
  data: Type.Array(AdminUserSummary),
  total: Type.Integer(),
  currentPage: Type.Integer(),
  perPage: Type.Integer(),
  lastPage: Type.Integer(),
});

export const UserDetail = Type.Object({ user: AdminUser });

export const UserChanged = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  user: AdminUser,
});

/** What an administrator may change: the profile, and the platform role through `roles`. */
export const UserUpdate = Type.Object({
  name: Type.Optional(Name),
  email: Type.Optional(Email),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  birth_date: Type.Optional(Nullable(BirthDate)),
  speciality: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  medical_order_number: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  roles: Type.Optional(
    Type.Array(StringEnum(['owner', 'doctor', 'admin']), {
      maxItems: 3,
      uniqueItems: true,
      description:
        'With `admin` or without: grants or removes platform administration. The organization role, if ' +
        'sent, must be the current one (it is managed inside the organization).',
    }),
  ),
});

export const StatusChange = Type.Object({ status: Status });

export const Deleted = Type.Object({ success: Type.Literal(true), message: Type.String() });

const Stat = Type.Object({
  key: StringEnum(['users', 'organizations', 'patients', 'prescriptions', 'invoices', 'active_sessions']),
  label: Type.String(),
  value: Type.Integer({ description: 'Now' }),
  last_30_days: Type.Integer({ description: 'Added in the last 30 days' }),
  previous_30_days: Type.Integer({ description: 'Added in the 30 days before' }),
  change: Nullable(
    Type.Number({ description: 'last_30_days against previous_30_days, in percent (null when that was 0)' }),
  ),
});

export const DashboardStats = Type.Object({
  stats: Type.Array(Stat),
  charts: Type.Object({
    userTrend: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), count: Type.Integer() }), {
      description: 'New accounts per day (UTC) over the last 30 days, oldest first, days without any included',
    }),
  }),
  recentActivities: Type.Array(
    Type.Object({
      id: Type.Integer(),
      action: Type.String(),
      entity_type: Type.String(),
      entity_uuid: Nullable(Type.String()),
      entity_name: Nullable(Type.String()),
      user_id: Nullable(Type.Integer()),
      user_name: Nullable(Type.String()),
      organization_id: Nullable(Type.Integer()),
      organization_name: Nullable(Type.String({ description: 'Null for the administrators’ own actions' })),
      created_at: Timestamp,
    }),
  ),
});
