import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pruneExpiredLinks } from '../../../domain/ptitspas/accounts/links.js';
import { checkRegistration, register } from '../../../domain/ptitspas/accounts/registration.js';
import { logIn, setPasswordWithLink } from '../../../domain/ptitspas/accounts/sessions.js';
import { pruneRefreshTokens, revokeFamily, rotate } from '../../../domain/ptitspas/accounts/tokens.js';
import { errorResponses, unauthorized } from '../../../plugins/errors.js';
import { HOUR_MS } from '../../../plugins/jobs.js';
import { authenticatedErrors, security } from '../responses.js';
import { AccountMessage, Message } from '../users/schemas.js';
import { LoginBody, LoginResponse, Me, RefreshBody, RegisterBody, SetPasswordBody, TokenPair } from './schemas.js';

const BAD_REFRESH = 'Token de rafraîchissement invalide ou expiré';
const errors = (...statuses: number[]) => errorResponses('ptitspas', 429, ...statuses);

/** Routes reached without a token: login, registration, refresh, set-password. */
export const publicAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.jobs.every('expired PtitsPas refresh tokens pruned', HOUR_MS, () => pruneRefreshTokens(app.systemDb));
  app.jobs.every('expired PtitsPas set-password links pruned', HOUR_MS, () => pruneExpiredLinks(app.systemDb));

  app.post(
    '/auth/login',
    {
      // Each attempt costs an argon2 hash: far fewer than the API's 100 a minute.
      onRequest: app.limit('ptitspas-login', { max: 10, timeWindow: '1 minute', per: 'ip' }),
      schema: {
        operationId: 'ptitspasLogin',
        tags: ['ptitspas-auth'],
        summary: 'Connexion : jeton d’accès (15 min) et jeton de rafraîchissement (30 jours)',
        body: LoginBody,
        response: { 200: LoginResponse, ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const passwords = app.passwords.for(request);
      const { user, familyId, refreshToken } = await logIn(app.systemDb, request.body.email, (hash) =>
        passwords.verify(hash, request.body.password),
      );
      return {
        access_token: app.signPtitsPasAccess(user, familyId),
        refresh_token: refreshToken,
        user: { id: user.id, email: user.email, role: user.role, prenom: user.prenom, nom: user.nom },
      };
    },
  );

  app.post(
    '/auth/register',
    {
      // Counted only once the request is well formed: a mistake does not spend the limit.
      preHandler: [
        async (request) => checkRegistration(request.body),
        app.limit('ptitspas-register', { max: 10, timeWindow: '1 hour', per: 'ip' }),
      ],
      schema: {
        operationId: 'ptitspasRegister',
        tags: ['ptitspas-auth'],
        summary: 'Inscription d’un parent ou d’une assistante maternelle, en attente de validation',
        body: RegisterBody,
        response: { 201: AccountMessage, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { password } = request.body;
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const user = await register(app.systemDb, request.body, passwordHash);
      return reply
        .code(201)
        .send({ message: 'Inscription réussie. Votre compte est en attente de validation.', userId: user.id });
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        operationId: 'ptitspasRefresh',
        tags: ['ptitspas-auth'],
        summary:
          'Échanger le jeton de rafraîchissement contre une nouvelle paire (rotation, détection de réutilisation)',
        body: RefreshBody,
        response: { 200: TokenPair, ...errors(400, 401) },
      },
    },
    async (request) => {
      const rotation = await rotate(app.systemDb, request.body.refresh_token);
      if (rotation.kind === 'reused') request.log.warn('refresh token reused: its whole family is revoked');
      if (rotation.kind !== 'rotated') throw unauthorized(BAD_REFRESH);
      return {
        access_token: app.signPtitsPasAccess(rotation.user, rotation.familyId),
        refresh_token: rotation.refreshToken,
      };
    },
  );

  app.post(
    '/auth/set-password',
    {
      // A wrong token costs a lookup only, but each right one an argon2 hash.
      onRequest: app.limit('ptitspas-set-password', { max: 10, timeWindow: '1 hour', per: 'ip' }),
      schema: {
        operationId: 'ptitspasSetPassword',
        tags: ['ptitspas-auth'],
        summary: 'Choisir son mot de passe avec le lien reçu par e-mail (valable 7 jours, une seule fois)',
        body: SetPasswordBody,
        response: { 200: Message, ...errors(400) },
      },
    },
    async (request) => {
      const { token, password } = request.body;
      await setPasswordWithLink(app.systemDb, token, () => app.passwords.for(request).hash(password));
      return { message: 'Mot de passe enregistré. Vous pouvez vous connecter.' };
    },
  );
};

/** Routes of the authenticated scope about the caller's own session. */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/auth/me',
    {
      config: { ptitspasRoles: 'any' },
      schema: {
        operationId: 'ptitspasMe',
        tags: ['ptitspas-auth'],
        summary: 'Le profil de l’utilisateur connecté',
        security,
        response: { 200: Me, ...authenticatedErrors() },
      },
    },
    async (request) => {
      const { id, email, role, prenom, nom, statut } = request.ptitspasUser;
      return { id, email, role, prenom, nom, statut };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { ptitspasRoles: 'any' },
      schema: {
        operationId: 'ptitspasLogout',
        tags: ['ptitspas-auth'],
        summary: 'Déconnexion : révoque cette session (ses jetons de rafraîchissement et d’accès)',
        security,
        response: { 200: Message, ...authenticatedErrors() },
      },
    },
    async (request) => {
      await revokeFamily(app.systemDb, request.ptitspasUser.familyId, 'logout');
      return { message: 'Déconnexion réussie' };
    },
  );
};
