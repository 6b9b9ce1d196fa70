import pg from 'pg';
import { APP_ROLE } from '../../db/app-role.js';
import type { PgBouncer } from '../pgbouncer.js';

/** The instances' LISTEN connections go straight to PostgreSQL (DATABASE_LISTEN_URL), by design. */
const LISTENER = 'medreport-ptitspas-listener';

export interface PoolerPeaks {
  samples: number;
  /** Most client connections PgBouncer held for the app database at once, and most server connections. */
  clients: number;
  servers: number;
  /** Most clients waiting for a server connection at once, and the longest wait seen (ms). */
  waiting: number;
  maxWaitMs: number;
  /** Most app-role connections PostgreSQL saw at once, the LISTEN ones aside. */
  backends: number;
}

export interface PoolerTotals {
  transactions: number;
  queries: number;
}

const count = (row: Record<string, unknown>, ...columns: string[]) =>
  columns.reduce((n, column) => n + Number(row[column] ?? 0), 0);

/**
 * Samples PgBouncer's pools and PostgreSQL's app-role connections every `everyMs` while the
 * workload runs (pools shrink when idle, so the end of the run says little): the peaks show
 * whether pooling happened and whether anything reached PostgreSQL around PgBouncer.
 */
export async function samplePooler(bouncer: PgBouncer, ownerUrl: string, everyMs = 500) {
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  const peaks: PoolerPeaks = { samples: 0, clients: 0, servers: 0, waiting: 0, maxWaitMs: 0, backends: 0 };
  const sample = async () => {
    const [pools, backends] = await Promise.all([
      bouncer.admin('SHOW POOLS'),
      owner.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where usename = $1 and application_name <> $2`,
        [APP_ROLE, LISTENER],
      ),
    ]);
    for (const pool of pools.filter((p) => p.database === 'app')) {
      peaks.clients = Math.max(peaks.clients, count(pool, 'cl_active', 'cl_waiting'));
      peaks.servers = Math.max(peaks.servers, count(pool, 'sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'));
      peaks.waiting = Math.max(peaks.waiting, count(pool, 'cl_waiting'));
      peaks.maxWaitMs = Math.max(peaks.maxWaitMs, count(pool, 'maxwait') * 1000 + count(pool, 'maxwait_us') / 1000);
    }
    peaks.backends = Math.max(peaks.backends, backends.rows[0]?.n ?? 0);
    peaks.samples++;
  };
  let running = sample();
  const timer = setInterval(() => {
    running = running.then(sample, sample);
  }, everyMs);
  return {
    async stop(): Promise<PoolerPeaks> {
      clearInterval(timer);
      await running.catch(() => {});
      await owner.end();
      return peaks;
    },
  };
}

/** PgBouncer's totals for the app database since it started (SHOW STATS). */
export async function poolerTotals(bouncer: PgBouncer): Promise<PoolerTotals> {
  const app = (await bouncer.admin('SHOW STATS')).find((row) => row.database === 'app') ?? {};
  return { transactions: count(app, 'total_xact_count'), queries: count(app, 'total_query_count') };
}
