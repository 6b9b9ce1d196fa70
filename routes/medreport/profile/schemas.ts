import { Type } from '@sinclair/typebox';
import { BirthDate, Email, Name, Password, ProfileFields } from '../../../domain/medreport/accounts/model.js';
import { User } from '../users/schemas.js';

const ProfileChanges = {
  name: Type.Optional(Name),
  birth_date: Type.Optional(BirthDate),
  ...ProfileFields,
};

export const ProfileUpdateJson = Type.Object(ProfileChanges);

/** The same fields as form fields, plus the avatar image (JPEG, PNG or WebP, 2 MB at most). */
export const ProfileUpdateForm = Type.Object({
  ...ProfileChanges,
  avatar: Type.Optional(Type.String({ format: 'binary', description: 'JPEG, PNG or WebP image, 2 MB at most' })),
});

export const EmailUpdate = Type.Object({ email: Email, current_password: Type.String({ minLength: 1 }) });

export const PasswordUpdate = Type.Object({
  current_password: Type.String({ minLength: 1 }),
  password: Password,
  password_confirmation: Type.String(),
});

export const UserWithMessage = Type.Object({ message: Type.String(), user: Type.Ref(User) });

/**
 * The spec's two Flutter samples for PUT /api/user/profile read the user from `body.user`
 * (multipart sample) and from the body itself (JSON sample): the answer serves both.
 */
export const ProfileUpdated = Type.Object({ ...User.properties, message: Type.String(), user: Type.Ref(User) });

export const MessageOnly = Type.Object({ message: Type.String() });

export const AvatarParams = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}\\.(jpg|png|webp)$' }) });
