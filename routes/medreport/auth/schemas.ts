import { Type } from '@sinclair/typebox';
import { BirthDate, Email, NewAccount, Password } from '../../../domain/medreport/accounts/model.js';
import { Organization } from '../organization/schemas.js';
import { User } from '../users/schemas.js';

/** The public registration form: `birth_date` is required there. */
export const RegisterBody = Type.Object({ ...NewAccount.properties, birth_date: BirthDate });

export const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 255 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const ForgotPasswordBody = Type.Object({ email: Email });

export const ResetPasswordBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  email: Email,
  password: Password,
  password_confirmation: Type.String(),
});

export const AuthResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  token: Type.String({ description: 'Bearer access token' }),
  user: Type.Ref(User),
});

export const Message = Type.Object({ success: Type.Literal(true), message: Type.String() });

export const TokenResponse = Type.Object({ token: Type.String() });

export const MeResponse = Type.Object({
  user: Type.Ref(User),
  organization: Type.Union([Type.Ref(Organization), Type.Null()]),
  role: Type.Union([Type.String(), Type.Null()]),
});
