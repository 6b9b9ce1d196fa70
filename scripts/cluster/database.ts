import { APP_ROLE, appRolePassword, appRoleUrl, ensureAppRole } from '../../db/app-role.js';
import { connect } from '../../db/connection.js';
import { ensureDatabase, startEmbeddedCluster } from '../../db/embedded.js';
import { migrate } from '../../db/migrate.js';
import { type Cleanup, log } from './processes.js';

const DATABASE = 'app';

export interface ClusterDatabase {
  port: number;
  /** The owner (the cluster's superuser here), straight to PostgreSQL: migrations, the seed, the checks. */
  ownerUrl: string;
  /** The app role's password, as src/server.ts derives it from JWT_SECRET. */
  appPassword: string;
  /** The app role, straight to PostgreSQL (PgBouncer's `through` turns it into the pooled URL). */
  appUrl: string;
}

/**
 * The embedded PostgreSQL in `dir`, migrated once and with the app role made, as src/server.ts's
 * prepareDatabase does before any instance starts; stopped by `cleanup`.
 */
export async function startDatabase(dir: string, jwtSecret: string, cleanup: Cleanup): Promise<ClusterDatabase> {
  const cluster = await startEmbeddedCluster({ dir, whenRunning: 'exclusive', ephemeral: true });
  cleanup.defer('stop PostgreSQL', () => cluster.stop());
  await ensureDatabase(cluster.url('postgres'), DATABASE);
  const ownerUrl = cluster.url(DATABASE);
  const appPassword = appRolePassword(jwtSecret);
  const { db } = connect(ownerUrl, { max: 1 });
  try {
    const { results = [] } = await migrate(db, 'latest');
    await ensureAppRole(db, appPassword);
    log(`PostgreSQL on port ${cluster.port}: ${results.length} migrations applied, role ${APP_ROLE} ready`);
  } finally {
    await db.destroy();
  }
  return {
    port: cluster.port,
    ownerUrl,
    appPassword,
    appUrl: appRoleUrl(ownerUrl, appPassword),
  };
}
