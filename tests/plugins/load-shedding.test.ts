import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../../plugins/errors.js';
import loadShedding from '../../plugins/load-shedding.js';

const app = Fastify({ logger: false });

beforeAll(async () => {
  installErrorHandlers(app, 'medreport');
  await app.register(loadShedding, { maxEventLoopDelayMs: 100, sampleIntervalMs: 100 });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/api/thing', async () => ({ ok: true }));
  await app.ready();
});

afterAll(() => app.close());

/** Holds the event loop, then lets the overdue sample run. */
async function stall(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until);
  await sleep(0);
}

describe('load shedding (@fastify/under-pressure)', () => {
  it('answers while the event loop keeps up', async () => {
    expect((await app.inject('/api/thing')).statusCode).toBe(200);
  });

  it('refuses with 503, Retry-After and the API shape while the loop lags, but still answers /health', async () => {
    await stall(2_000);
    const refused = await app.inject('/api/thing');
    const health = await app.inject('/health');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ message: expect.stringContaining('très sollicité') });
    expect(health.statusCode).toBe(200);
    // Once a sample shows the loop caught up, requests are served again.
    await sleep(400);
    expect((await app.inject('/api/thing')).statusCode).toBe(200);
  });
});
