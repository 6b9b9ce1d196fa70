import { randomUUID } from 'node:crypto';
import jwt from '@fastify/jwt';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../../db/schema.js';
import { forbidden, unauthorized } from '../errors.js';

/** The caller of an authenticated MedReport route: their user row and the session their token names. */
export type AuthUser = Omit<UserRow, 'password_hash'> & { session_id: string };

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

// A named (prepared once per connection) statement: checks the session and loads its user.
const SESSION_USER = {
  name: 'auth_session_user',
  text: `
    select s.id as session_id, s.expires_at as session_expires_at, u.*
      from medreport.sessions s
      join medreport.users u on u.id = s.user_id
     where s.id = $1 and s.revoked_at is null and s.expires_at > now()`,
};

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
        const sid = randomUUID();
        await db
          .insertInto('medreport.sessions')
          .values({
            id: sid,
            user_id: userId,
            expires_at: new Date(Date.now() + ttlSeconds * 1000),
            ip: request.ip,
            user_agent: request.headers['user-agent']?.slice(0, 512) ?? null,
          })
          .execute();
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
      const { rows } = await app.pool.query<UserRow & { session_id: string; session_expires_at: Date }>({
        ...SESSION_USER,
        values: [payload.sid],
      });
      const row = rows[0];
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
