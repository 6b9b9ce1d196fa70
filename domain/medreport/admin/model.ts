import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { BirthDate, Email, Name } from '../accounts/model.js';

export const AccountStatus = StringEnum(['active', 'suspended']);

/** Which accounts an administrator looks at, and which page of them. */
export const UserSearch = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  search: Type.Optional(
    Type.String({
      maxLength: 255,
      description: 'Part of the name, e-mail, speciality or order number; case and accents ignored',
    }),
  ),
  status: Type.Optional(AccountStatus),
  role: Type.Optional(StringEnum(['owner', 'doctor', 'admin'])),
  organization_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
});
export type UserSearch = Static<typeof UserSearch>;

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
export type UserUpdate = Static<typeof UserUpdate>;

/** The figures of the dashboard, in the order it shows them. */
export const STAT_KEYS = [
  'users',
  'organizations',
  'patients',
  'prescriptions',
  'invoices',
  'active_sessions',
] as const;
export type StatKey = (typeof STAT_KEYS)[number];
