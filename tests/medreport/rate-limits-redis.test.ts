import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

// Shared counters need a real Redis. CI installs redis-server (.ci/run) and must run this test;
// a developer machine without it runs the rest of the suite.
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (process.env.CI === 'true' && !hasRedis)
  throw new Error('CI must provide redis-server for the rate-limit store test');

let redis: ChildProcess | undefined;
afterAll(() => {
  redis?.kill('SIGTERM');
});

async function startRedis(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  redis = child;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('Ready to accept connections') && resolve());
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return `redis://127.0.0.1:${port}`;
}

describe.runIf(hasRedis)('rate limits with REDIS_URL', () => {
  it('two instances share one counter', async () => {
    const redisUrl = await startRedis();
    const a = await buildTestApp({ config: { rateLimits: true, redisUrl } });
    const b = await buildTestApp({ config: { rateLimits: true, redisUrl } });
    try {
      const attempt = (app: typeof a) =>
        app.inject({
          method: 'POST',
          url: '/api/login',
          remoteAddress: '10.3.3.3',
          payload: { email: uniqueEmail(), password: 'whatever1' },
        });
      for (const app of [a, b, a, b, a]) expect((await attempt(app)).statusCode).toBe(401);
      const sixth = await attempt(b);
      expect(sixth.statusCode).toBe(429);
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);

      // Readiness pings it; once Redis is gone, the instance says so and is drained (503).
      expect((await a.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({ status: 'ready', redis: 'up' });
      redis!.kill('SIGKILL');
      await new Promise((resolve) => redis!.once('exit', resolve));
      const down = await a.inject({ method: 'GET', url: '/ready' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ status: 'unavailable', database: 'up', storage: 'up', redis: 'down' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
