import { type Static, Type } from '@sinclair/typebox';
import { rolesOf } from '../../../domain/medreport/accounts/users.js';
import { AccountStatus, STAT_KEYS, UserSearch, UserUpdate } from '../../../domain/medreport/admin/model.js';
import type { AdminUserRow } from '../../../domain/medreport/admin/users.js';
import { Nullable, StringEnum } from '../../../domain/shared/schemas.js';

const Roles = Type.Array(StringEnum(['owner', 'doctor', 'admin']), {
  description: 'The organization role (if any), and `admin` for a platform administrator',
});
const Status = AccountStatus;
const Timestamp = Type.String({ format: 'date-time' });

export const UserIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The user’s `id`' }),
});

export const UsersQuery = UserSearch;

/**
 * The spec's AdminUser, with the roles and the organization. Ids are integers as everywhere else
 * in MedReport (the spec's client reads them with `toString()`), `created_at` as everywhere else,
 * and `createdAt`, the name the spec's admin client reads, kept beside it (docs/admin.md).
 */
const userFields = {
  id: Type.Integer(),
  name: Type.String(),
  email: Type.String(),
  status: Status,
  created_at: Timestamp,
  createdAt: Type.String({ format: 'date-time', deprecated: true, description: 'The same as `created_at`' }),
  phone: Nullable(Type.String()),
  address: Nullable(Type.String()),
  speciality: Nullable(Type.String()),
  medical_order_number: Nullable(Type.String()),
  roles: Roles,
  organization_id: Nullable(Type.Integer()),
};

const AdminUserSummary = Type.Object(userFields);

export const AdminUser = Type.Object({
  ...userFields,
  birth_date: Nullable(Type.String({ format: 'date' })),
  organization_name: Nullable(Type.String()),
});

export function toAdminUser(row: AdminUserRow): Static<typeof AdminUser> {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    status: row.status,
    created_at: row.created_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    phone: row.phone,
    address: row.address,
    speciality: row.speciality,
    medical_order_number: row.medical_order_number,
    roles: rolesOf(row),
    organization_id: row.organization_id,
    birth_date: row.birth_date,
    organization_name: row.organization_name,
  };
}

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

export { UserUpdate };

export const StatusChange = Type.Object({ status: Status });

export const Deleted = Type.Object({ success: Type.Literal(true), message: Type.String() });

const Stat = Type.Object({
  key: StringEnum(STAT_KEYS),
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
