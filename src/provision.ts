import { type EmbeddedOptions, ensureDatabase, startEmbeddedCluster } from '../db/embedded.js';
import type { Config } from './config.js';

export interface ProvisionedDatabase {
  url: string;
  /** Where the data lives, for the start-up line (no credentials). */
  where: string;
  /** Stops the embedded cluster when this process started it (`immediate`: without waiting); nothing for DATABASE_URL. */
  release(options?: { immediate?: boolean }): Promise<void>;
}

const EMBEDDED_DATABASE = 'app';

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR, started if needed. */
export async function provisionDatabase(
  config: Config,
  whenRunning: EmbeddedOptions['whenRunning'],
  logger?: EmbeddedOptions['logger'],
): Promise<ProvisionedDatabase> {
  if (config.databaseUrl) {
    // `host` already carries the port when there is one.
    const { host, pathname } = new URL(config.databaseUrl);
    return {
      url: config.databaseUrl,
      where: `PostgreSQL at ${host}${pathname}`,
      release: async () => {},
    };
  }
  const cluster = await startEmbeddedCluster({ dir: config.dataDir, whenRunning, logger });
  try {
    await ensureDatabase(cluster.url('postgres'), EMBEDDED_DATABASE);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return {
    url: cluster.url(EMBEDDED_DATABASE),
    where: `embedded PostgreSQL in ${cluster.dataDir}`,
    release: (options) => cluster.stop(options),
  };
}
