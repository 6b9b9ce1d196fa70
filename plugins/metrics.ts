import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RequestDurations } from './request-durations.js';

/**
 * Prometheus metrics of this instance (`GET /metrics`, routes/metrics.ts; docs/ops/metrics.md).
 * One registry per app, so two instances in one process (tests) keep their own. Every part that
 * owns something worth watching declares it here, where it is made: pools (db.ts, exports),
 * the password-hash queue, live sockets.
 */
export interface Metrics {
  registry: Registry;
  /** A pool's connections (in use, idle) and the clients waiting for one, read at each scrape. */
  watchPool(name: string, pool: pg.Pool): void;
  /** A value read at each scrape. */
  gauge(name: string, help: string, read: () => number): void;
  histogram(name: string, help: string, buckets: number[]): Histogram;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route's pattern, never the path: ids in paths would make a series per record. */
const routeOf = (request: FastifyRequest) => request.routeOptions.url ?? 'unmatched';

export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const pools = new Map<string, pg.Pool>();
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of each database pool: in use, idle, and clients waiting for one',
      labelNames: ['pool', 'state'],
      registers: [registry],
      collect() {
        for (const [name, pool] of pools) {
          this.set({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
          this.set({ pool: name, state: 'idle' }, pool.idleCount);
          this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
        }
      },
    });
    const requests = new RequestDurations(SECONDS);
    registry.registerMetric(requests as never); // prom-client's Metric type asks for more than a registry reads
    app.addHook('onResponse', (request, reply, done) => {
      requests.observe(request.method, routeOf(request), reply.statusCode, reply.elapsedTime / 1000);
      done();
    });

    app.decorate('metrics', {
      registry,
      watchPool(name, pool) {
        pools.set(name, pool);
      },
      gauge(name, help, read) {
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      },
      histogram: (name, help, buckets) => new Histogram({ name, help, buckets, registers: [registry] }),
    } satisfies Metrics);
  },
  { name: 'metrics' },
);
