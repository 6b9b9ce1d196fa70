import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { OpenSession } from '../../domain/medreport/accounts/login.js';
import { findLiveSessionUser, openSession, type SessionUser } from '../../domain/medreport/accounts/sessions.js';
import { forbidden, unauthorized } from '../errors.js';

/** The caller of an authenticated MedReport route: their user row and the session their token names. */
export type AuthUser = SessionUser;

interface TokenPayload {
  /** Session id: the server-side row that logout, refresh and password changes revoke. */
  sid: string;
  sub: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenPayload;
    user: AuthUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook of the authenticated scope: 401 without a live session, 403 when suspended. */
    authenticate: onRequestHookHandler;
    /** Opens a session for the user and returns its signed access token. */
    issueToken(db: Kysely<Database>, userId: number, userUuid: string, request: FastifyRequest): Promise<string>;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * MedReport's token verifier, registered inside the /api tree only: its JWT key, its `authenticate`
 * hook and its user type never reach /api/v1 (PtitsPas has its own, plugins/ptitspas/auth.ts).
 */
export default fp<{ secret: string; ttlSeconds: number }>(
  async (app, { secret, ttlSeconds }) => {
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });
    const cache = app.sessionCache;

    app.decorate(
      'issueToken',
      async (db: Kysely<Database>, userId: number, userUuid: string, request: FastifyRequest) => {
        const sid = await openSession(db, userId, ttlSeconds, {
          ip: request.ip,
          userAgent: request.headers['user-agent'],
        });
        return app.jwt.sign({ sid, sub: userUuid }, { expiresIn: ttlSeconds });
      },
    );

    /**
     * The user behind a bearer token the cache does not know: verify the token, then one round
     * trip checks its session. The cache answers for the token itself afterwards: only a token
     * whose signature was verified is ever stored, so a hit needs neither the check nor the database.
     */
    async function userOf(token: string): Promise<AuthUser> {
      const generation = cache.generation;
      let payload: TokenPayload & { exp: number };
      try {
        payload = app.jwt.verify<TokenPayload & { exp: number }>(token);
      } catch {
        throw unauthorized('Jeton invalide ou expiré.');
      }
      const row = await findLiveSessionUser(app.pool, payload.sid);
      if (!row) throw unauthorized('Session expirée ou révoquée.');
      const { password_hash: _hash, session_expires_at: expiresAt, ...user } = row;
      const tags = [`k:${user.session_id}`, `p:${user.id}`];
      cache.set(token, tags, user, generation, Math.min(expiresAt.getTime(), payload.exp * 1000));
      return user;
    }

    const admit = (request: FastifyRequest, user: AuthUser) => {
      if (user.status === 'suspended') return forbidden('Ce compte est suspendu.');
      request.user = user;
      return undefined;
    };

    // Callback-style: a warm request is authenticated without a promise or a database round trip.
    app.decorate<onRequestHookHandler>('authenticate', (request, _reply, done) => {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!token) return done(unauthorized('Non authentifié.'));
      const cached = cache.get(token);
      if (cached) return done(admit(request, cached));
      userOf(token).then((user) => done(admit(request, user)), done);
    });
  },
  { name: 'medreport-auth', dependencies: ['db', 'session-cache'] },
);

/** Rate-limit key of MedReport's authenticated routes: the caller's account. */
export const byUser = (request: FastifyRequest) => request.user.id;

/** Opens sessions for `request`'s caller inside the domain's transactions (registration, OAuth). */
export const sessionOpener =
  (app: Pick<FastifyInstance, 'issueToken'>, request: FastifyRequest): OpenSession =>
  (db, user) =>
    app.issueToken(db, user.id, user.uuid, request);
