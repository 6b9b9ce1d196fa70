import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { appRolePassword, appRoleUrl, ensureAppRole } from '../db/app-role.js';
import { connect } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { provisionDatabase } from '../db/provision.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, loadDotEnv, resolveJwtSecret } from './config.js';
import { createLogger } from './logging.js';

/** config -> database (embedded unless DATABASE_URL) -> migrate -> listen; graceful shutdown. */
async function start(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.logLevel);

  const database = await provisionDatabase(config, 'exclusive', logger);
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    // Closing stops accepting connections and waits for in-flight requests, then closes the pool.
    await app?.close();
    await database.release();
  });

  try {
    const jwtSecret = await resolveJwtSecret(config);
    const appUrl = await prepareDatabase(database.url, config.databaseAppUrl, jwtSecret, logger);
    app = await buildApp({ ...config, databaseUrl: appUrl, jwtSecret }, { logger });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close();
    await database.release();
    throw err;
  }
}

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

start().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
  } else {
    console.error(`Could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
