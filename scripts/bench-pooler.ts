import type { ChildProcess } from 'node:child_process';
import { appRolePassword, appRoleUrl } from '../db/app-role.js';
import type { LoadJob, LoadResult } from './bench-load.js';
import { startPgBouncer } from './pgbouncer.js';
import { cpuMs } from './process-stats.js';

interface PoolerOptions {
  ownerUrl: string;
  secret: string;
  rounds: number;
  /** The scenarios to repeat, as run against the directly connected server. */
  jobs: Array<{ name: string; direct: LoadJob }>;
  direct: ChildProcess;
  startServer(env: Record<string, string>): Promise<{ url: string; process: ChildProcess }>;
  load(jobs: LoadJob[]): Promise<LoadResult[]>;
  log(message: string): void;
}

export interface PoolerSample extends LoadResult {
  /** CPU per request, ms: the server's, and PgBouncer's on the pooled side. */
  cpu: number;
  poolerCpu: number;
}

/**
 * The same scenarios against the server on direct connections (named prepared statements) and a
 * second server of the same build behind PgBouncer in transaction mode (DATABASE_POOLER=transaction:
 * unnamed statements), interleaved rounds; PgBouncer's own CPU is counted on the pooled side.
 */
export async function measurePooler(o: PoolerOptions) {
  const appUrl = appRoleUrl(o.ownerUrl, appRolePassword(o.secret));
  // As many server connections as the pooled instance's pools could ask for: the pooler does not throttle.
  const bouncer = await startPgBouncer([appUrl], { poolSize: 30 });
  try {
    const pooled = await o.startServer({
      DATABASE_APP_URL: bouncer.through(appUrl),
      DATABASE_POOLER: 'transaction',
      DATABASE_LISTEN_URL: appUrl,
    });
    const results = new Map<string, { direct: PoolerSample[]; pooled: PoolerSample[] }>();
    for (let round = 1; round <= o.rounds; round++) {
      for (const { name, direct } of o.jobs) {
        const entry = results.get(name) ?? { direct: [], pooled: [] };
        results.set(name, entry);
        const order = round % 2 ? (['direct', 'pooled'] as const) : (['pooled', 'direct'] as const);
        for (const side of order) {
          o.log(`pooler, round ${round}/${o.rounds}: ${name} (${side})`);
          const job = side === 'direct' ? direct : { ...direct, url: pooled.url };
          const server = side === 'direct' ? o.direct : pooled.process;
          await o.load([{ ...job, seconds: 2 }]); // warm-up
          const before = { server: cpuMs(server.pid!), pooler: cpuMs(bouncer.pid) };
          const [result] = await o.load([job]);
          const requests = Math.max(1, result!.requests);
          entry[side].push({
            ...result!,
            cpu: (cpuMs(server.pid!) - before.server) / requests,
            poolerCpu: side === 'pooled' ? (cpuMs(bouncer.pid) - before.pooler) / requests : 0,
          });
        }
      }
    }
    pooled.process.kill('SIGTERM');
    return results;
  } finally {
    await bouncer.stop();
  }
}
