import type { FastifyPluginAsync } from 'fastify';
import { publicAuthRoutes, sessionRoutes } from './auth/index.js';
import oauthRoutes from './oauth/index.js';
import profileRoutes from './profile/index.js';
import { User } from './users/schemas.js';

/**
 * The MedReport API, mounted under /api. Public and authenticated routes live in separate
 * encapsulated scopes: a route registered in the second cannot be reached without a live session.
 */
const medreport: FastifyPluginAsync = async (app) => {
  app.addSchema(User);

  await app.register(async function publicScope(scope) {
    await scope.register(publicAuthRoutes);
    await scope.register(oauthRoutes);
  });

  await app.register(async function authenticatedScope(scope) {
    scope.addHook('onRequest', scope.authenticate);
    // The spec's "protected API group": 120 requests a minute per user, on top of route limits.
    scope.addHook('onRequest', scope.limit('api', { max: 120, timeWindow: '1 minute', per: 'user' }));
    await scope.register(sessionRoutes);
    await scope.register(profileRoutes);
  });
};

export default medreport;
