import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../schemas.js';
import { Adresse, Email, Name, Password, Role, Statut, Telephone, Uuid } from '../users/schemas.js';

export const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 128 }),
});

const TokenUser = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: Role,
  prenom: Type.String(),
  nom: Type.String(),
});

export const LoginResponse = Type.Object(
  {
    access_token: Type.String({ description: 'JWT, 15 minutes' }),
    refresh_token: Type.String({ description: 'Opaque, 30 days, exchanged for a new one on every use' }),
    user: TokenUser,
  },
  { $id: 'PtitsPasLogin' },
);

export const TokenPair = Type.Object(
  { access_token: Type.String(), refresh_token: Type.String() },
  { $id: 'PtitsPasTokenPair' },
);

export const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) });

export const Me = Type.Object(
  { id: Uuid, email: Type.String(), role: Role, prenom: Type.String(), nom: Type.String(), statut: Statut },
  { $id: 'PtitsPasMe' },
);

/**
 * v1.3: parents and childminders register without a password (one is chosen through the link
 * mailed at validation); a password sent anyway is kept. Childminders give their agreement.
 */
export const RegisterBody = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  prenom: Name,
  nom: Name,
  role: StringEnum(['parent', 'assistante_maternelle'] as const),
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
  numero_agrement: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 50,
      pattern: '\\S',
      description: 'Obligatoire pour une assistante maternelle',
    }),
  ),
  date_agrement: Type.Optional(
    Type.String({ format: 'date', description: 'Obligatoire pour une assistante maternelle (v1.3)' }),
  ),
  nb_max_enfants: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Par défaut 4' })),
  ville_residence: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
});

export const Registered = Type.Object({ message: Type.String(), userId: Uuid }, { $id: 'PtitsPasRegistered' });

export const SetPasswordBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  password: Password,
});
