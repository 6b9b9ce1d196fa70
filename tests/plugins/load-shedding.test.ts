import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../../plugins/errors.js';
import loadShedding from '../../plugins/load-shedding.js';
import health from '../../routes/health.js';
import type { App } from '../../src/app.js';
import { testDb } from '../helpers/database.js';

const app = Fastify({ logger: false });
let closeDb: () => Promise<void>;

beforeAll(async () => {
  const { db } = await testDb();
  closeDb = () => db.destroy();
  app.decorate('systemDb', db);
  // What /ready probes beside the database: a storage that answers, no Redis.
  app.decorate('storage', { check: async () => {} } as unknown as App['storage']);
  app.decorate('redis', undefined);
  installErrorHandlers(app, 'medreport');
  await app.register(loadShedding, { maxEventLoopDelayMs: 100, sampleIntervalMs: 100 });
  await app.register(health);
  app.get('/api/thing', async () => ({ ok: true }));
  // Starting is slow (every schema compiled): that lag is not load.
  await app.register(async () => stall(1_000));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await closeDb();
});

/** Holds the event loop, then lets the overdue sample run. */
async function stall(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until);
  await sleep(0);
}

describe('load shedding (@fastify/under-pressure)', () => {
  it('answers at once after a slow start: the seconds spent starting are not load', async () => {
    expect((await app.inject('/api/thing')).statusCode).toBe(200);
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'up', storage: 'up', redis: 'unused', load: 'normal' });
  });

  it('refuses with 503, Retry-After and the API shape while the loop lags, but still answers /health', async () => {
    await stall(2_000);
    const refused = await app.inject('/api/thing');
    const health = await app.inject('/health');
    const ready = await app.inject('/ready');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ message: expect.stringContaining('très sollicité') });
    expect(health.statusCode).toBe(200);
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      status: 'unavailable',
      database: 'up',
      storage: 'up',
      redis: 'unused',
      load: 'overloaded',
    });
    // Once a sample shows the loop caught up, requests are served again.
    await sleep(400);
    expect((await app.inject('/api/thing')).statusCode).toBe(200);
  });
});
