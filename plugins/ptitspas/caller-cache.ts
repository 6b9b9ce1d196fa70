import fp from 'fastify-plugin';
import type { PtitsPasCaller } from '../../domain/ptitspas/caller.js';
import { type AuthCache, listenedAuthCache } from '../auth-cache.js';
import { AUTH_CHANNEL } from './notification-hub.js';

/** What a verified access token grants: its live login's caller, until `endsAt` (ms since the epoch). */
export interface PtitsPasAccess {
  caller: PtitsPasCaller;
  endsAt: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Verified PtitsPas access tokens and their live login's caller, kept in process (plugins/auth-cache.ts). */
    ptitspasCallerCache: AuthCache<PtitsPasAccess>;
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
    const cache = await listenedAuthCache<PtitsPasAccess>(app, {
      listenUrl,
      channel: AUTH_CHANNEL,
      schema: 'ptitspas',
      tables: ['utilisateurs', 'refresh_families'],
    });
    app.decorate('ptitspasCallerCache', cache);
  },
  { name: 'ptitspas-caller-cache', dependencies: ['db'] },
);
