import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { badRequest, errorResponses, forbidden, unauthorized } from '../../../plugins/errors.js';
import { hourly } from '../../../plugins/periodic.js';
import { insertAssistanteMaternelle } from '../assistantes-maternelles/queries.js';
import { insertParent } from '../parents/queries.js';
import { authenticatedErrors, security } from '../responses.js';
import { findUserByEmail, insertUser } from '../users/queries.js';
import { Message } from '../users/schemas.js';
import { consumeSetPasswordToken, liveTokenOwner } from './links.js';
import {
  LoginBody,
  LoginResponse,
  Me,
  RefreshBody,
  RegisterBody,
  Registered,
  SetPasswordBody,
  TokenPair,
} from './schemas.js';
import { openFamily, pruneRefreshTokens, revokeFamily, rotate } from './tokens.js';

const BAD_CREDENTIALS = 'Email ou mot de passe incorrect';
const BAD_REFRESH = 'Token de rafraîchissement invalide ou expiré';
const BAD_LINK = 'Ce lien est invalide, a expiré ou a déjà servi. Demandez-en un nouveau à votre gestionnaire.';
const errors = (...statuses: number[]) => errorResponses('ptitspas', 429, ...statuses);

/** Routes reached without a token: login, registration, refresh, set-password. */
export const publicAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  hourly(app, 'expired PtitsPas refresh tokens pruned', () => pruneRefreshTokens(app.systemDb));

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
      const user = await findUserByEmail(app.systemDb, request.body.email);
      // An unknown e-mail costs the same hash as a wrong password: the answers cannot be told apart.
      if (!(await app.passwords.for(request).verify(user?.password_hash, request.body.password)) || !user) {
        throw unauthorized(BAD_CREDENTIALS);
      }
      if (user.statut === 'suspendu') throw forbidden('Compte suspendu');
      if (user.statut === 'en_attente') throw forbidden('Compte en attente de validation');
      const { familyId, refreshToken } = await openFamily(app.systemDb, user.id);
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
      onRequest: app.limit('ptitspas-register', { max: 10, timeWindow: '1 hour', per: 'ip' }),
      schema: {
        operationId: 'ptitspasRegister',
        tags: ['ptitspas-auth'],
        summary: 'Inscription d’un parent ou d’une assistante maternelle, en attente de validation',
        body: RegisterBody,
        response: { 201: Registered, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { password, role, numero_agrement, date_agrement, nb_max_enfants, ville_residence, ...fields } =
        request.body;
      if (role === 'assistante_maternelle') {
        if (!numero_agrement) throw badRequest('numero_agrement est obligatoire pour une assistante maternelle');
        if (!date_agrement) throw badRequest('date_agrement est obligatoire pour une assistante maternelle');
      }
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const user = await app.systemDb.transaction().execute(async (trx) => {
        const user = await insertUser(trx, fields, { role, statut: 'en_attente', passwordHash });
        if (role === 'parent') await insertParent(trx, user.id);
        else {
          await insertAssistanteMaternelle(trx, user.id, {
            numero_agrement: numero_agrement!,
            date_agrement: date_agrement!,
            nb_max_enfants,
            ville_residence,
          });
        }
        return user;
      });
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
      // The token is checked before any hashing: a wrong one costs a lookup, not 19 MiB of argon2.
      if (!(await liveTokenOwner(app.systemDb, token))) throw badRequest(BAD_LINK);
      const passwordHash = await app.passwords.for(request).hash(password);
      const done = await app.systemDb.transaction().execute(async (trx) => {
        const userId = await consumeSetPasswordToken(trx, token);
        if (!userId) return false;
        await trx
          .updateTable('ptitspas.utilisateurs')
          .set({ password_hash: passwordHash, modifie_le: sql`now()` })
          .where('id', '=', userId)
          .execute();
        return true;
      });
      if (!done) throw badRequest(BAD_LINK);
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
