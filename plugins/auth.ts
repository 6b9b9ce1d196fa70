import { randomUUID } from 'node:crypto';
import jwt from '@fastify/jwt';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../db/schema.js';
import { forbidden, unauthorized } from './errors.js';

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
    authenticate: onRequestAsyncHookHandler;
    /** Opens a session for the user and returns its signed access token. */
    issueToken(db: Kysely<Database>, userId: number, userUuid: string, request: FastifyRequest): Promise<string>;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

export default fp<{ secret: string; ttlSeconds: number }>(
  async (app, { secret, ttlSeconds }) => {
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });

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

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw unauthorized('Non authentifié.');
      let payload: TokenPayload;
      try {
        payload = app.jwt.verify<TokenPayload>(token);
      } catch {
        throw unauthorized('Jeton invalide ou expiré.');
      }
      // Signature and expiry were checked in process; one query checks the session is still live.
      const row = await app.db
        .selectFrom('medreport.sessions as s')
        .innerJoin('medreport.users as u', 'u.id', 's.user_id')
        .selectAll('u')
        .select('s.id as session_id')
        .where('s.id', '=', payload.sid)
        .where('s.revoked_at', 'is', null)
        .where('s.expires_at', '>', new Date())
        .executeTakeFirst();
      if (!row) throw unauthorized('Session expirée ou révoquée.');
      if (row.status === 'suspended') throw forbidden('Ce compte est suspendu.');
      const { password_hash: _hash, ...user } = row;
      request.user = user;
    });
  },
  { name: 'auth', dependencies: ['db'] },
);
