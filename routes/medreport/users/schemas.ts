import { type Static, Type } from '@sinclair/typebox';
import type { UserRow } from '../../../db/schema.js';
import { rolesOf } from '../../../domain/medreport/accounts/users.js';
import { Nullable, StringEnum } from '../../../domain/shared/schemas.js';

/** The MedReport User model, as the spec's Flutter `User.fromJson` reads it. */
export const User = Type.Object(
  {
    id: Type.Integer(),
    uuid: Type.String({ format: 'uuid' }),
    name: Type.String(),
    email: Type.String({ format: 'email' }),
    phone: Nullable(Type.String()),
    address: Nullable(Type.String()),
    birth_date: Nullable(Type.String({ format: 'date' })),
    speciality: Nullable(Type.String()),
    medical_order_number: Nullable(Type.String()),
    role: Nullable(
      StringEnum(['owner', 'doctor', 'admin'], {
        description: 'The organization role; `admin` for a platform administrator outside any organization',
      }),
    ),
    roles: Type.Array(StringEnum(['owner', 'doctor', 'admin']), {
      description: 'Every role: the organization role and `admin` for a platform administrator',
    }),
    organization_id: Type.Union([Type.Integer(), Type.Null()]),
    has_used_trial: Type.Boolean(),
    avatar: Nullable(Type.String({ description: 'Stored file name of the avatar' })),
    avatar_url: Nullable(Type.String({ description: 'Where an authenticated client downloads the avatar' })),
    email_verified_at: Nullable(Type.String({ format: 'date-time' })),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type UserResource = Static<typeof User>;

export function toUserResource(row: Omit<UserRow, 'password_hash'>, publicUrl: string): UserResource {
  return {
    id: row.id,
    uuid: row.uuid,
    name: row.name,
    email: row.email,
    phone: row.phone,
    address: row.address,
    birth_date: row.birth_date,
    speciality: row.speciality,
    medical_order_number: row.medical_order_number,
    role: row.role ?? row.platform_role,
    roles: rolesOf(row),
    organization_id: row.organization_id,
    has_used_trial: row.has_used_trial,
    avatar: row.avatar,
    avatar_url: row.avatar ? `${publicUrl}/api/user/avatar/${row.avatar}` : null,
    email_verified_at: row.email_verified_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
