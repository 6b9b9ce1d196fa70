import { randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { UserRow } from '../../../db/schema.js';
import {
  AVATAR_CONTENT_TYPES,
  assertAvatarVisible,
  avatarContentType,
  avatarExtension,
} from '../../../domain/medreport/accounts/avatars.js';
import { assertCurrentPassword, changeEmail, changePassword } from '../../../domain/medreport/accounts/profile.js';
import { assertConfirmed, assertPastDate } from '../../../domain/medreport/accounts/rules.js';
import { updateProfile } from '../../../domain/medreport/accounts/users.js';
import { errorResponses, notFound } from '../../../plugins/errors.js';
import { fileResponse } from '../../shared/downloads.js';
import { toUserResource, User } from '../users/schemas.js';
import {
  AvatarParams,
  EmailUpdate,
  MessageOnly,
  PasswordUpdate,
  ProfileUpdated,
  ProfileUpdateForm,
  ProfileUpdateJson,
  UserWithMessage,
} from './schemas.js';

const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    avatarUpload?: Buffer;
  }
}

/** The caller's own profile: read, update (JSON or multipart with an avatar), e-mail, password. */
const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;
  const security = [{ bearerAuth: [] }];
  const user = (row: Parameters<typeof toUserResource>[0]) => toUserResource(row, publicUrl);

  await app.register(multipart, {
    // Form fields land in request.body for schema validation; the avatar's bytes are kept aside
    // and its field holds the file name, so the same schema checks both kinds of body.
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 50, fieldSize: 4096 },
    async onFile(this: FastifyRequest, part) {
      const bytes = await part.toBuffer();
      if (part.fieldname === 'avatar') this.avatarUpload = bytes;
      // @fastify/multipart's file part has no `value`; the body schema reads the avatar's file name there.
      (part as unknown as { value: string }).value = part.filename;
    },
  });

  app.get(
    '/user/profile',
    {
      schema: {
        operationId: 'getProfile',
        tags: ['profile'],
        summary: 'The caller’s profile',
        security,
        response: {
          200: Type.Object({ user: Type.Ref(User), message: Type.String() }),
          ...errorResponses('medreport', 401),
        },
      },
    },
    async (request) => ({ user: user(request.user), message: 'Profil récupéré avec succès' }),
  );

  app.put(
    '/user/profile',
    {
      // Room for a full-size avatar plus the form fields; the avatar's own limit is checked apart.
      bodyLimit: AVATAR_MAX_BYTES + 64 * 1024,
      schema: {
        operationId: 'updateProfile',
        tags: ['profile'],
        summary: 'Update the profile; multipart/form-data may carry an `avatar` image',
        security,
        body: {
          content: {
            'application/json': { schema: ProfileUpdateJson },
            'multipart/form-data': { schema: ProfileUpdateForm },
          },
          // One route, two body schemas by content type: the type provider types only the JSON one.
        } as unknown as typeof ProfileUpdateJson,
        response: { 200: ProfileUpdated, ...errorResponses('medreport', 401, 413, 415, 422) },
      },
    },
    async (request) => {
      const changes = (request.body ?? {}) as Static<typeof ProfileUpdateForm>;
      assertPastDate('birth_date', changes.birth_date);
      const upload = request.avatarUpload ? await storeAvatar(request.avatarUpload) : undefined;
      const previous = request.user.avatar;
      let row: UserRow;
      try {
        row = await updateProfile(app.systemDb, request.user.id, changes, upload);
      } catch (err) {
        if (upload) await app.storage.remove(`avatars/${upload}`);
        throw err;
      }
      if (upload && previous) await app.storage.remove(`avatars/${previous}`);
      const resource = user(row);
      return { ...resource, message: 'Profil mis à jour avec succès', user: resource };
    },
  );

  /** Stores the image under a random name (nothing to enumerate) and returns that name. */
  async function storeAvatar(bytes: Buffer): Promise<string> {
    const name = `${randomBytes(16).toString('base64url')}.${await avatarExtension(bytes)}`;
    await app.storage.put(`avatars/${name}`, bytes, { maxBytes: AVATAR_MAX_BYTES });
    return name;
  }

  app.put(
    '/user/profile/email',
    {
      schema: {
        operationId: 'updateEmail',
        tags: ['profile'],
        summary: 'Change the e-mail address (current password required; marks it unverified)',
        security,
        body: EmailUpdate,
        response: { 200: UserWithMessage, ...errorResponses('medreport', 401, 422) },
      },
    },
    async (request) => {
      await assertCurrentPassword(
        app.systemDb,
        request.user.id,
        request.body.current_password,
        app.passwords.for(request),
      );
      const row = await changeEmail(app.systemDb, request.user, request.body.email);
      return { message: 'Adresse email mise à jour avec succès', user: user(row) };
    },
  );

  app.put(
    '/user/profile/password',
    {
      schema: {
        operationId: 'updatePassword',
        tags: ['profile'],
        summary: 'Change the password; every other session is revoked',
        security,
        body: PasswordUpdate,
        response: { 200: MessageOnly, ...errorResponses('medreport', 401, 422) },
      },
    },
    async (request) => {
      const { current_password, password, password_confirmation } = request.body;
      assertConfirmed(password, password_confirmation);
      const passwords = app.passwords.for(request);
      await assertCurrentPassword(app.systemDb, request.user.id, current_password, passwords);
      const passwordHash = await passwords.hash(password);
      await changePassword(app.systemDb, request.user.id, request.user.session_id, passwordHash);
      return { message: 'Mot de passe mis à jour avec succès' };
    },
  );

  app.delete(
    '/user/profile/avatar',
    {
      schema: {
        operationId: 'deleteAvatar',
        tags: ['profile'],
        summary: 'Remove the avatar',
        security,
        response: { 200: UserWithMessage, ...errorResponses('medreport', 401) },
      },
    },
    async (request) => {
      const row = await updateProfile(app.systemDb, request.user.id, {}, null);
      if (request.user.avatar) await app.storage.remove(`avatars/${request.user.avatar}`);
      return { message: 'Avatar supprimé avec succès', user: user(row) };
    },
  );

  app.get(
    '/user/avatar/:name',
    {
      schema: {
        operationId: 'getAvatar',
        tags: ['profile'],
        summary: 'Download an avatar: your own, or one of a member of your organization',
        security,
        params: AvatarParams,
        response: {
          200: fileResponse('The image', AVATAR_CONTENT_TYPES),
          ...errorResponses('medreport', 401, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      await assertAvatarVisible(app.systemDb, name, request.user);
      const file = await app.storage.get(`avatars/${name}`);
      if (!file) throw notFound('Avatar introuvable.');
      return (
        reply
          .type(avatarContentType(name))
          .header('content-length', file.size)
          .header('cache-control', 'private, max-age=86400')
          // The type provider types send() by the response schema (binary string); a stream is what goes out.
          .send(file.stream as unknown as string)
      );
    },
  );
};

export default profileRoutes;
