import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses, unauthorized, forbidden, unprocessable } from '../../../plugins/errors.js';
import { createUser, findUserByEmail, revokeSessions, setPasswordHash } from '../users/queries.js';
import { assertConfirmed, assertPastDate } from '../users/rules.js';
import { toUserResource } from '../users/schemas.js';
import { findOrganization } from '../organization/queries.js';
import { toOrganizationResource } from '../organization/schemas.js';
import { consumePasswordReset, createPasswordReset, isLivePasswordReset } from './queries.js';
import {
  AuthResponse,
  ForgotPasswordBody,
  LoginBody,
  MeResponse,
  Message,
  RegisterBody,
  ResetPasswordBody,
  TokenResponse,
} from './schemas.js';

const INVALID_RESET = 'Ce lien de réinitialisation est invalide ou a expiré.';

/** Routes reached without a token: registration, login, password reset. */
export const publicAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl, passwordResetUrl } = app.config;
  const registerLimit = app.limit('register', { max: 3, timeWindow: '1 hour', per: 'ip' });

  app.post(
    '/register',
    {
      onRequest: registerLimit,
      schema: {
        operationId: 'register',
        tags: ['auth'],
        summary: 'Create an account (no organization yet)',
        body: RegisterBody,
        response: { 201: AuthResponse, ...errorResponses('medreport', 422, 429) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      assertConfirmed(body.password, body.password_confirmation);
      assertPastDate('birth_date', body.birth_date);
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const { user, token } = await app.systemDb.transaction().execute(async (trx) => {
        const user = await createUser(trx, body, { passwordHash });
        return { user, token: await app.issueToken(trx, user.id, user.uuid, request) };
      });
      return reply.code(201).send({
        success: true,
        message: 'Utilisateur créé avec succès',
        user: toUserResource(user, publicUrl),
        token,
      });
    },
  );

  app.post(
    '/login',
    {
      onRequest: app.limit('login', { max: 5, timeWindow: '1 minute', per: 'ip' }),
      schema: {
        operationId: 'login',
        tags: ['auth'],
        summary: 'Log in with e-mail and password',
        body: LoginBody,
        response: { 200: AuthResponse, ...errorResponses('medreport', 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const user = await findUserByEmail(app.systemDb, request.body.email);
      if (!(await app.passwords.for(request).verify(user?.password_hash, request.body.password)) || !user) {
        throw unauthorized('Identifiants invalides.');
      }
      if (user.status === 'suspended') throw forbidden('Ce compte est suspendu.');
      const token = await app.issueToken(app.systemDb, user.id, user.uuid, request);
      return { success: true as const, message: 'Connexion réussie', token, user: toUserResource(user, publicUrl) };
    },
  );

  app.post(
    '/forgot-password',
    {
      // Not in the spec's table: without a limit this route mails anyone as often as asked.
      onRequest: app.limit('forgot-password', { max: 5, timeWindow: '1 hour', per: 'ip' }),
      schema: {
        operationId: 'forgotPassword',
        tags: ['auth'],
        summary: 'E-mail a password reset link (same answer whether or not the account exists)',
        body: ForgotPasswordBody,
        response: { 200: Message, ...errorResponses('medreport', 422, 429, 503) },
      },
    },
    async (request) => {
      // Answered before any work, so the time of the answer says nothing about the account.
      const { email } = request.body;
      app.background.run('forgot-password', async () => {
        const user = await findUserByEmail(app.systemDb, email);
        if (user?.status !== 'active') return;
        const token = await createPasswordReset(app.systemDb, user.id);
        const link = `${passwordResetUrl}?token=${encodeURIComponent(token)}&email=${encodeURIComponent(user.email)}`;
        await app.mailer.send({
          to: user.email,
          subject: 'Réinitialisation de votre mot de passe MedReport',
          text:
            `Bonjour ${user.name},\n\n` +
            `Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 60 minutes) :\n${link}\n\n` +
            "Si vous n'avez pas demandé cette réinitialisation, ignorez ce message.",
        });
      });
      return {
        success: true as const,
        message: 'Si un compte existe pour cette adresse, un lien de réinitialisation vient de lui être envoyé.',
      };
    },
  );

  app.post(
    '/reset-password',
    {
      // Each attempt may cost an argon2 hash: limited like the request for a link.
      onRequest: app.limit('reset-password', { max: 5, timeWindow: '1 hour', per: 'ip' }),
      schema: {
        operationId: 'resetPassword',
        tags: ['auth'],
        summary: 'Choose a new password with the e-mailed token; every session is revoked',
        body: ResetPasswordBody,
        response: { 200: Message, ...errorResponses('medreport', 422, 429) },
      },
    },
    async (request) => {
      const { email, token, password, password_confirmation } = request.body;
      assertConfirmed(password, password_confirmation);
      const user = await findUserByEmail(app.systemDb, email);
      // The token is checked before any hashing: a wrong one costs a lookup, not 19 MiB of argon2.
      if (!user || !(await isLivePasswordReset(app.systemDb, user.id, token))) {
        throw unprocessable(INVALID_RESET, { token: [INVALID_RESET] });
      }
      const passwordHash = await app.passwords.for(request).hash(password);
      const reset = await app.systemDb.transaction().execute(async (trx) => {
        // Consumed conditionally: of two resets racing with one token, one wins.
        if (!(await consumePasswordReset(trx, user.id, token))) return false;
        await setPasswordHash(trx, user.id, passwordHash, { addressProved: true });
        await revokeSessions(trx, user.id);
        return true;
      });
      if (!reset) throw unprocessable(INVALID_RESET, { token: [INVALID_RESET] });
      return { success: true as const, message: 'Mot de passe réinitialisé avec succès.' };
    },
  );
};

/** Routes of the authenticated scope about the caller's own session. */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;
  const security = [{ bearerAuth: [] }];

  app.post(
    '/logout',
    {
      schema: {
        operationId: 'logout',
        tags: ['auth'],
        summary: 'Revoke the current token',
        security,
        response: { 200: Message, ...errorResponses('medreport', 401) },
      },
    },
    async (request) => {
      await app.systemDb
        .updateTable('medreport.sessions')
        .set({ revoked_at: new Date() })
        .where('id', '=', request.user.session_id)
        .execute();
      return { success: true as const, message: 'Déconnexion réussie' };
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        operationId: 'refreshToken',
        tags: ['auth'],
        summary: 'Exchange the current token for a new one; the old one is revoked',
        security,
        response: { 200: TokenResponse, ...errorResponses('medreport', 401) },
      },
    },
    async (request) => {
      const { user } = request;
      const token = await app.systemDb.transaction().execute(async (trx) => {
        const revoked = await trx
          .updateTable('medreport.sessions')
          .set({ revoked_at: new Date() })
          .where('id', '=', user.session_id)
          .where('revoked_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        // Two refreshes racing with one token: only the first gets a new one.
        if (!revoked) throw unauthorized('Session expirée ou révoquée.');
        return app.issueToken(trx, user.id, user.uuid, request);
      });
      return { token };
    },
  );

  app.get(
    '/user',
    {
      schema: {
        operationId: 'currentUser',
        tags: ['auth'],
        summary: 'The authenticated user',
        security,
        response: { 200: { $ref: 'User' }, ...errorResponses('medreport', 401) },
      },
    },
    async (request) => toUserResource(request.user, publicUrl),
  );

  app.get(
    '/me',
    {
      schema: {
        operationId: 'me',
        tags: ['auth'],
        summary: 'The authenticated user with their organization and role',
        security,
        response: { 200: MeResponse, ...errorResponses('medreport', 401) },
      },
    },
    async (request) => {
      const { organization_id: organizationId } = request.user;
      const organization = organizationId === null ? null : await findOrganization(app.systemDb, organizationId);
      return {
        user: toUserResource(request.user, publicUrl),
        organization: organization && toOrganizationResource(organization),
        role: request.user.role,
      };
    },
  );
};
