import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { logIn, refreshSession, registerAccount } from '../../../domain/medreport/accounts/login.js';
import {
  accountOfResetToken,
  pruneExpiredPasswordResets,
  resetPassword,
  sendPasswordResetLink,
} from '../../../domain/medreport/accounts/password-resets.js';
import { assertConfirmed } from '../../../domain/medreport/accounts/rules.js';
import { revokeSession } from '../../../domain/medreport/accounts/sessions.js';
import { findOrganization } from '../../../domain/medreport/organizations/organizations.js';
import { errorResponses } from '../../../plugins/errors.js';
import { HOUR_MS } from '../../../plugins/jobs.js';
import { sessionOpener } from '../../../plugins/medreport/auth.js';
import { toOrganizationResource } from '../organization/schemas.js';
import { toUserResource } from '../users/schemas.js';
import { registrationGuard } from './registration.js';
import { resetPasswordLink } from './reset-page.js';
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

/** Routes reached without a token: registration, login, password reset. */
export const publicAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;
  const resetUrl = resetPasswordLink(app.config);
  app.jobs.every('expired MedReport password reset tokens pruned', HOUR_MS, () =>
    pruneExpiredPasswordResets(app.systemDb),
  );
  const registration = registrationGuard(app);

  app.post(
    '/register',
    {
      preHandler: registration,
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
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const { user, token } = await registerAccount(app.systemDb, body, { passwordHash }, sessionOpener(app, request));
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
      const user = await logIn(app.systemDb, request.body, app.passwords.for(request));
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
        await sendPasswordResetLink(app.systemDb, email, {
          resetUrl,
          send: (mail) => app.mailer.send(mail),
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
      const user = await accountOfResetToken(app.systemDb, email, token);
      const passwordHash = await app.passwords.for(request).hash(password);
      await resetPassword(app.systemDb, user.id, token, passwordHash);
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
      await revokeSession(app.systemDb, request.user.session_id);
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
      const token = await refreshSession(app.systemDb, user.session_id, (trx) =>
        app.issueToken(trx, user.id, user.uuid, request),
      );
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
