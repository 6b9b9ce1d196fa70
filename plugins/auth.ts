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

// The hottest query: a named (prepared once per connection) statement that checks the session,
// loads the user and, in the same round trip, sets the connection's tenant context for RLS.
const SESSION_USER = {
  name: 'auth_session_user',
  text: `
    select set_config('app.organization_id', coalesce(u.organization_id::text, ''), false) as tenant_context,
           s.id as session_id, u.*
      from medreport.sessions s
      join medreport.users u on u.id = s.user_id
     where s.id = $1 and s.revoked_at is null and s.expires_at > now()`,
};

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
      const row = await app.tenantPool.run(async (client) => {
        const { rows } = await client.query<UserRow & { session_id: string; tenant_context: string }>({
          ...SESSION_USER,
          values: [payload.sid],
        });
        return { result: rows[0], organizationSet: rows[0]?.tenant_context };
      });
      if (!row) throw unauthorized('Session expirée ou révoquée.');
      if (row.status === 'suspended') throw forbidden('Ce compte est suspendu.');
      const { password_hash: _hash, tenant_context: _context, ...user } = row;
      request.user = user;
    });
  },
  { name: 'auth', dependencies: ['db'] },
);
