import { randomUUID } from 'node:crypto';
import jwt from '@fastify/jwt';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { DeleteQueryNode, TableNode, UpdateQueryNode, type Kysely, type KyselyPlugin, type QueryId } from 'kysely';
import { AuthCache, AuthInvalidations } from '../db/auth-cache.js';
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
    authenticate: onRequestHookHandler;
    /** Opens a session for the user and returns its signed access token. */
    issueToken(db: Kysely<Database>, userId: number, userUuid: string, request: FastifyRequest): Promise<string>;
    /** Verified tokens and their live session's user, kept in process (db/auth-cache.ts). */
    sessionCache: AuthCache<AuthUser>;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;
/** Where the triggers of migration 0006 announce session and user changes. */
export const AUTH_CHANNEL = 'medreport_auth';

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
 * Empties this process's session cache whenever this process changes a session or a user: its
 * own next request must see the change, before the trigger's notification comes back.
 */
class ForgetOnAuthWrites implements KyselyPlugin {
  readonly #writes = new WeakSet<QueryId>();
  constructor(private readonly cache: AuthCache<unknown>) {}

  transformQuery({ node, queryId }: Parameters<KyselyPlugin['transformQuery']>[0]) {
    const table = UpdateQueryNode.is(node) ? node.table : DeleteQueryNode.is(node) ? node.from.froms[0] : undefined;
    if (table && TableNode.is(table) && ['users', 'sessions'].includes(table.table.identifier.name)) {
      this.#writes.add(queryId);
    }
    return node;
  }

  async transformResult({ result, queryId }: Parameters<KyselyPlugin['transformResult']>[0]) {
    if (this.#writes.has(queryId)) this.cache.clear();
    return result;
  }
}

export default fp<{ secret: string; ttlSeconds: number; databaseUrl: string }>(
  async (app, { secret, ttlSeconds, databaseUrl }) => {
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });

    const cache = new AuthCache<AuthUser>();
    const invalidations = new AuthInvalidations(databaseUrl, AUTH_CHANNEL, [cache], (err) =>
      app.log.warn({ err }, 'session cache off until the notification connection is back'),
    );
    await invalidations.ready();
    app.addHook('onClose', () => invalidations.close());
    app.decorate('sessionCache', cache);
    // `app.db` is the only handle that writes users and sessions.
    app.db = app.db.withPlugin(new ForgetOnAuthWrites(cache));

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
  { name: 'auth', dependencies: ['db'] },
);
