import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { PTITSPAS_ROLES } from '../caller.js';

/** The fields every PtitsPas account has, whatever its role: what a valid one is. */
const STATUTS = ['en_attente', 'actif', 'suspendu'] as const;
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

/** What a new account's owner names; role, statut and the password hash come from the operation. */
const AccountFields = Type.Object({
  email: Email,
  prenom: Name,
  nom: Name,
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
});
export type NewUserFields = Static<typeof AccountFields>;

/** The contact fields an account's details may change; `null` clears an optional one. */
export const AccountChanges = Type.Object(
  {
    prenom: Type.Optional(Name),
    nom: Type.Optional(Name),
    telephone: Type.Optional(Nullable(Telephone)),
    adresse: Type.Optional(Nullable(Adresse)),
  },
  { minProperties: 1 },
);
export type UserChanges = Static<typeof AccountChanges>;
