import fp from 'fastify-plugin';
import type { PtitsPasCaller } from '../../domain/ptitspas/caller.js';
import { type AuthCache, listenedAuthCache } from '../auth-cache.js';
import { AUTH_CHANNEL } from './notification-hub.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** PtitsPas callers of live logins, by `<login id>:<account id>`, kept in process (plugins/auth-cache.ts). */
    ptitspasCallerCache: AuthCache<PtitsPasCaller>;
  }
}

/**
 * The PtitsPas caller cache and the LISTEN connection that keeps it true on every instance:
 * migration 0021's triggers (widened by 0024 to the profile's fields) announce `f:<login id>`
 * when a login is revoked or goes and `u:<account id>` when an account changes, on
 * `ptitspas_auth`. The verifier that fills it is plugins/ptitspas/auth.ts.
 */
export default fp<{ listenUrl: string }>(
  async (app, { listenUrl }) => {
    const cache = await listenedAuthCache<PtitsPasCaller>(app, {
      listenUrl,
      channel: AUTH_CHANNEL,
      schema: 'ptitspas',
      tables: ['utilisateurs', 'refresh_families'],
    });
    app.decorate('ptitspasCallerCache', cache);
  },
  { name: 'ptitspas-caller-cache', dependencies: ['db'] },
);
