import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Unauthenticated } from '../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics in Prometheus's text format (plugins/metrics.ts, docs/ops/metrics.md), for a
 * scraper holding METRICS_TOKEN as its bearer token; not served at all without the token set.
 * Outside both APIs and the OpenAPI document: it is for operators, not for clients.
 */
const metrics: FastifyPluginAsyncTypebox = async (app) => {
  const token = app.config.metricsToken;
  if (!token) return;
  const expected = digest(`Bearer ${token}`);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    // Digests compared in constant time: neither the token nor its length leaks through timing.
    if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      throw new Unauthenticated('Jeton de métriques manquant ou invalide.');
    }
    return reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics());
  });
};

export default metrics;
