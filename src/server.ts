import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { appRolePassword, appRoleUrl, ensureAppRole } from '../db/app-role.js';
import { connect } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import type { App } from './app.js';
import { type Config, ConfigError, loadConfig, loadDotEnv } from './config.js';
import { resolveJwtSecret, resolveNirKeys } from './config-values.js';
import { createLogger, prettyStream } from './logging.js';
import { provisionDatabase } from './provision.js';
import { handleShutdown } from './shutdown.js';
import { releaseStartupMemory } from './startup-memory.js';

/** config -> database (embedded unless DATABASE_URL) -> migrate -> listen; graceful shutdown. */
async function start(): Promise<void> {
  loadDotEnv();
  let config = loadConfig();
  const logger = createLogger(
    config.logLevel,
    config.env === 'development' && process.stdout.isTTY ? await prettyStream() : undefined,
  );
  // PORT=0: the port is chosen now, so PUBLIC_URL (links, OpenAPI, OAuth callbacks) names it.
  if (config.port === 0) config = loadConfig({ ...process.env, PORT: String(await freePort(config.host)) });
  if (config.env === 'production' && !config.smtpUrl) {
    logger.warn('SMTP_URL is not set: password reset e-mails are written to the log instead of being sent');
  }

  // The app's modules, most of the start-up's CPU, load while PostgreSQL starts (docs/benchmarks.md).
  const appModule = import('./app.js');
  appModule.catch(() => {}); // a failure is thrown where it is awaited
  const database = await provisionDatabase(config, 'exclusive', logger);
  let app: App | undefined;
  handleShutdown({
    logger,
    // Closing stops accepting connections and waits for in-flight requests, then closes the pools.
    graceful: async () => {
      await app?.close();
      logger.debug('requests drained, pools closed');
      await database.release();
    },
    force: () => database.release({ immediate: true }),
  });

  try {
    const jwtSecret = await resolveJwtSecret(config);
    const appUrl = await prepareDatabase(database.url, config.databaseAppUrl, jwtSecret, logger);
    const nirKeys = await resolveNirKeys(config);
    const { buildApp } = await appModule;
    app = await buildApp({ ...config, databaseUrl: appUrl, jwtSecret, nirKeys }, { logger });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close();
    await database.release();
    throw err;
  }
  logger.info(
    { url: config.publicUrl, docs: `${config.publicUrl}/api/docs`, data: config.dataDir, database: database.where },
    `MedReport API at ${config.publicUrl}/api, PtitsPas API at ${config.publicUrl}/api/v1, documentation at ${config.publicUrl}/api/docs`,
  );
  // A moment after the start, not in its way: the first requests are answered first.
  setTimeout(releaseStartupMemory, STARTUP_MEMORY_DELAY_MS).unref();
}

const STARTUP_MEMORY_DELAY_MS = 1_000;

/** As the owner: apply pending migrations, then make sure the app role can use the result. */
async function prepareDatabase(ownerUrl: string, appUrl: string | undefined, jwtSecret: string, logger: Logger) {
  const { db } = connect(ownerUrl, { max: 1 });
  try {
    const { results = [] } = await migrate(db, 'latest');
    for (const r of results) logger.info({ migration: r.migrationName }, 'migration applied');
    if (appUrl) return appUrl;
    const password = appRolePassword(jwtSecret);
    await ensureAppRole(db, password);
    return appRoleUrl(ownerUrl, password);
  } finally {
    await db.destroy();
  }
}

function freePort(host: Config['host']): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

start().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
  } else {
    console.error(`Could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
