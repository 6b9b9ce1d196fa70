import fp from 'fastify-plugin';
import { type AuthCache, listenedAuthCache } from '../auth-cache.js';
import type { AuthUser } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** MedReport's verified tokens and their live session's user, kept in process (plugins/auth-cache.ts). */
    sessionCache: AuthCache<AuthUser>;
  }
}

/**
 * The MedReport session cache and the LISTEN connection that keeps it true on every instance
 * (migration 0006's triggers announce on `medreport_auth`). Process-wide, while the token verifier
 * that fills it lives in the MedReport tree (plugins/medreport/auth.ts).
 */
export default fp<{ listenUrl: string }>(
  async (app, { listenUrl }) => {
    const cache = await listenedAuthCache<AuthUser>(app, {
      listenUrl,
      channel: 'medreport_auth',
      schema: 'medreport',
      tables: ['users', 'sessions'],
    });
    app.decorate('sessionCache', cache);
  },
  { name: 'session-cache', dependencies: ['db'] },
);
