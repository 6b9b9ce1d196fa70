import { randomBytes } from 'node:crypto';
import { hasPgBouncer, type PgBouncer, startPgBouncer } from '../pgbouncer.js';
import { SEED } from './accounts.js';
import { type ClusterDatabase, startDatabase } from './database.js';
import { type Cleanup, log, subDir } from './processes.js';
import { type Instance, type S3, seedDemo, startInstance, startRedis, startS3, waitReady } from './services.js';

/**
 * PgBouncer's server connections for the app role: fewer than the two instances' busiest moments
 * need (each holds up to ~25 client connections to it), so clients queue for one and pooling
 * really happens.
 */
export const POOL_SIZE = 5;

export interface Cluster {
  workDir: string;
  database: ClusterDatabase;
  pgbouncer: PgBouncer;
  instances: [Instance, Instance];
  metricsToken: string;
}

/**
 * Every part of the cluster on this machine: PostgreSQL (migrated, app role made, demo data),
 * PgBouncer in transaction mode in front of it, Redis, s3rver, and two API instances sharing them,
 * each ready. `cleanup` undoes each part.
 */
export async function startCluster(workDir: string, cleanup: Cleanup): Promise<Cluster> {
  if (!hasPgBouncer) {
    throw new Error(
      'PgBouncer is not installed (/usr/sbin/pgbouncer): run `apt-get install -y pgbouncer` (Debian, Ubuntu)',
    );
  }
  const secrets = {
    jwt: randomBytes(48).toString('base64url'),
    nirKeys: `k1:${randomBytes(32).toString('base64')}`,
    metrics: randomBytes(32).toString('hex'),
  };
  const [database, redisUrl, s3] = await Promise.all([
    startDatabase(await subDir(workDir, 'postgres'), secrets.jwt, cleanup),
    startRedis(workDir, cleanup),
    startS3(workDir, cleanup),
  ]);
  const pgbouncer = await startPgBouncer([database.appUrl], { poolSize: POOL_SIZE });
  cleanup.defer('stop PgBouncer', () => pgbouncer.stop());
  log(
    `PgBouncer ${pgbouncer.through(database.appUrl).replace(/^.*@/, 'at ')}: transaction mode, ${POOL_SIZE} server connections`,
  );
  const env = instanceEnv(database, pgbouncer, redisUrl, s3, secrets);
  const instances: [Instance, Instance] = [
    await startInstance('A', workDir, { ...env, DATA_DIR: await subDir(workDir, 'data-a') }, cleanup),
    await startInstance('B', workDir, { ...env, DATA_DIR: await subDir(workDir, 'data-b') }, cleanup),
  ];
  // The seed needs no instance and the instances need no data to start: both at once.
  log('seeding demo data (npm run cli -- seed:demo) while the instances start');
  const seeding = seedDemo(workDir, env, cleanup, [
    ...['--orgs', SEED.orgs, '--users-per-org', SEED.usersPerOrg, '--patients', SEED.patients].map(String),
    ...['--dossiers', SEED.families].map(String),
  ]);
  await Promise.all([seeding, ...instances.map(waitReady)]);
  log(`instances ready: A ${instances[0].url}, B ${instances[1].url}`);
  return { workDir, database, pgbouncer, instances, metricsToken: secrets.metrics };
}

/** The environment both instances share (the seed runs with it too); DATA_DIR is each one's own. */
function instanceEnv(
  database: ClusterDatabase,
  pgbouncer: PgBouncer,
  redisUrl: string,
  s3: S3,
  secrets: { jwt: string; nirKeys: string; metrics: string },
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    // Migrations (and the seed) as the owner, straight to PostgreSQL.
    DATABASE_URL: database.ownerUrl,
    // Requests through PgBouncer; LISTEN cannot go through a transaction pooler, so straight to PostgreSQL.
    DATABASE_APP_URL: pgbouncer.through(database.appUrl),
    DATABASE_POOLER: 'transaction',
    DATABASE_LISTEN_URL: database.appUrl,
    JWT_SECRET: secrets.jwt,
    PTITSPAS_NIR_KEYS: secrets.nirKeys,
    REDIS_URL: redisUrl,
    STORAGE: 's3',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    METRICS_TOKEN: secrets.metrics,
    RATE_LIMITS: 'on',
    // The virtual clients stand for many devices: each names its address (X-Forwarded-For) as a
    // load balancer in front of the instances would.
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
  };
}
