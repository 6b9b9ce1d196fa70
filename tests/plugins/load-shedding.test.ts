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

/**
 * `url` asked right after the loop lagged. Whether the next sample has already seen that lag
 * depends on how the process was scheduled (a busy machine orders the timers differently), so the
 * loop lags again, up to 20 times, until the answer is a refusal.
 */
async function whileLagging(url: string) {
  let res: Awaited<ReturnType<typeof app.inject>> | undefined;
  for (let attempt = 0; attempt < 20 && res?.statusCode !== 503; attempt++) {
    await stall(1_000);
    res = await app.inject(url);
  }
  return res!;
}

describe('load shedding (@fastify/under-pressure)', () => {
  it('answers at once after a slow start: the seconds spent starting are not load', async () => {
    expect((await app.inject('/api/thing')).statusCode).toBe(200);
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'up', storage: 'up', redis: 'unused', load: 'normal' });
  });

  it('refuses with 503, Retry-After and the API shape while the loop lags, but still answers /health', async () => {
    const refused = await whileLagging('/api/thing');
    const health = await app.inject('/health');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ message: expect.stringContaining('très sollicité') });
    expect(health.statusCode).toBe(200);
    const ready = await whileLagging('/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      status: 'unavailable',
      database: 'up',
      storage: 'up',
      redis: 'unused',
      load: 'overloaded',
    });
    // Once a sample shows the loop caught up, requests are served again.
    let served = await app.inject('/api/thing');
    for (let attempt = 1; attempt < 20 && served.statusCode !== 200; attempt++) {
      await sleep(200);
      served = await app.inject('/api/thing');
    }
    expect(served.statusCode).toBe(200);
  });
});
