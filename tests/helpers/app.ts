import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { type App, buildApp } from '../../src/app.js';
import { type AppConfig, loadConfig } from '../../src/config.js';
import { testAppDatabaseUrl } from './database.js';
import { checkResponse } from './response-contract.js';
import { TEST_JWT_SECRET, TEST_NIR_KEYS } from './urls.js';

export interface TestAppOptions {
  config?: Partial<AppConfig>;
  logger?: FastifyBaseLogger;
  /** Runs after the app is built and before it is ready: tests add probe routes here. */
  beforeReady?: (app: App) => void | Promise<void>;
}

/** The real app, bound to this test file's database, ready for `app.inject`. Close it in afterAll. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<App> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'api-data-'));
  const config: AppConfig = {
    ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir }),
    databaseUrl: await testAppDatabaseUrl(),
    jwtSecret: TEST_JWT_SECRET,
    nirKeys: TEST_NIR_KEYS,
    // Limits have their own tests; elsewhere many requests come from one address and one user.
    rateLimits: false,
    // OWASP cost is for production; tests hash hundreds of passwords.
    passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    // Refusals leave at once here; tests/security/password-hash-flood.test.ts checks the delay.
    refusalDelayMs: 0,
    // A busy machine must not turn answers into 503s; tests/plugins/load-shedding.test.ts tests it.
    maxEventLoopDelayMs: undefined,
    ...options.config,
  };
  const app = await buildApp(config, { logger: options.logger });
  app.addHook('onClose', async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  // Every answer is checked against openapi.json (tests/setup/each-file.ts).
  app.addHook('onSend', checkResponse);
  await options.beforeReady?.(app);
  await app.ready();
  // Jobs run once at start-up; a test that changes rows under them must not race that run.
  await app.jobs.tick();
  return app;
}
