import { Type } from '@sinclair/typebox';
import { Password, Role, Statut, Uuid } from '../../../domain/ptitspas/accounts/model.js';
import { Registration } from '../../../domain/ptitspas/accounts/registration.js';

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

export const RegisterBody = Registration;

export const SetPasswordBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  password: Password,
});
