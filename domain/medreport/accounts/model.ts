import { type Static, Type } from '@sinclair/typebox';

/** What a valid account field is: the HTTP schemas of registration, profile and administration build on these. */
export const Name = Type.String({ minLength: 1, maxLength: 255 });
export const Email = Type.String({ format: 'email', maxLength: 255 });
export const Password = Type.String({ minLength: 8, maxLength: 1024 });
export const BirthDate = Type.String({ format: 'date' });

/** Optional profile fields shared by every registration form and the profile update. */
export const ProfileFields = {
  phone: Type.Optional(Type.String({ maxLength: 50 })),
  address: Type.Optional(Type.String({ maxLength: 500 })),
  speciality: Type.Optional(Type.String({ maxLength: 255 })),
  medical_order_number: Type.Optional(Type.String({ maxLength: 100 })),
};

/** What every registration form says about the new account (the public one also requires `birth_date`). */
export const NewAccount = Type.Object({
  name: Name,
  email: Email,
  password: Password,
  password_confirmation: Type.String(),
  birth_date: Type.Optional(BirthDate),
  ...ProfileFields,
});
export type NewAccount = Static<typeof NewAccount>;
