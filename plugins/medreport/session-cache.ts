import fp from 'fastify-plugin';
import { DeleteQueryNode, type KyselyPlugin, type QueryId, TableNode, UpdateQueryNode } from 'kysely';
import { ChannelListener } from '../../db/listener.js';
import type { AuthUser } from './auth.js';
import { AuthCache } from './auth-cache.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** MedReport's verified tokens and their live session's user, kept in process (plugins/medreport/auth-cache.ts). */
    sessionCache: AuthCache<AuthUser>;
  }
}

/** Where the triggers of migration 0006 announce MedReport session and user changes. */
const AUTH_CHANNEL = 'medreport_auth';

/**
 * Empties this process's session cache whenever this process changes a session or a user: its
 * own next request must see the change, before the trigger's notification comes back.
 */
class ForgetOnAuthWrites implements KyselyPlugin {
  readonly #writes = new WeakSet<QueryId>();
  constructor(private readonly cache: { clear(): void }) {}

  transformQuery({ node, queryId }: Parameters<KyselyPlugin['transformQuery']>[0]) {
    const table = UpdateQueryNode.is(node) ? node.table : DeleteQueryNode.is(node) ? node.from.froms[0] : undefined;
    if (table && TableNode.is(table) && table.table.schema?.name === 'medreport') {
      if (['users', 'sessions'].includes(table.table.identifier.name)) this.#writes.add(queryId);
    }
    return node;
  }

  async transformResult({ result, queryId }: Parameters<KyselyPlugin['transformResult']>[0]) {
    if (this.#writes.has(queryId)) this.cache.clear();
    return result;
  }
}

/**
 * The MedReport session cache and the LISTEN connection that keeps it true on every instance.
 * Process-wide (one listener per process), while the token verifier that fills it lives in the
 * MedReport tree (plugins/medreport/auth.ts).
 */
export default fp<{ listenUrl: string }>(
  async (app, { listenUrl }) => {
    const cache = new AuthCache<AuthUser>();
    // Enabled only while listening: a lost connection could hide a revocation.
    const invalidations = new ChannelListener(
      listenUrl,
      [AUTH_CHANNEL],
      { message: (_channel, tag) => cache.forget(tag), up: () => cache.enable(), down: () => cache.disable() },
      (err) => app.log.warn({ err }, 'session cache off until the notification connection is back'),
    );
    await invalidations.ready();
    app.addHook('onClose', () => invalidations.close());
    app.decorate('sessionCache', cache);
    // `app.systemDb` is the only handle that writes users and sessions.
    app.systemDb = app.systemDb.withPlugin(new ForgetOnAuthWrites(cache));
  },
  { name: 'session-cache', dependencies: ['db'] },
);
