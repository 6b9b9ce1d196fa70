import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';

/**
 * The SQL of cluster-wide jobs (plugins/jobs.ts runs them): a job is due when its `next_run_at`
 * has passed and no live lease holds it. Claiming is one conditional UPDATE, so of the instances
 * that find it due at once exactly one gets it; a lease left by a crashed instance expires and the
 * job is claimed again.
 */

export async function ensureJob(db: Kysely<Database>, name: string): Promise<void> {
  await db
    .insertInto('ops.jobs')
    .values({ name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/** The run's id when `instance` got the job, undefined when it is not due or someone holds it. */
export async function claimJob(db: Kysely<Database>, name: string, instance: string, leaseMs: number) {
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('ops.jobs')
      .set({ locked_by: instance, locked_until: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
      .where('name', '=', name)
      .where('next_run_at', '<=', sql<Date>`now()`)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
      .returning('name')
      .executeTakeFirst();
    if (!claimed) return undefined;
    const run = await trx
      .insertInto('ops.job_runs')
      .values({ job: name, instance })
      .returning('id')
      .executeTakeFirstOrThrow();
    return run.id;
  });
}

export interface JobOutcome {
  durationMs: number;
  /** What the job answers (rows removed…), or the error it threw. */
  result?: number;
  error?: string;
}

/** Records the run and schedules the next one `intervalMs` later; lets go of the lease. */
export async function finishJob(
  db: Kysely<Database>,
  name: string,
  runId: number,
  instance: string,
  intervalMs: number,
  outcome: JobOutcome,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('ops.job_runs')
      .set({
        finished_at: sql`clock_timestamp()`,
        duration_ms: Math.round(outcome.durationMs),
        outcome: outcome.error === undefined ? 'done' : 'failed',
        result: outcome.result ?? null,
        error: outcome.error ?? null,
      })
      .where('id', '=', runId)
      .execute();
    await trx
      .updateTable('ops.jobs')
      .set((eb) => ({
        locked_by: null,
        locked_until: null,
        next_run_at: sql`now() + make_interval(secs => ${intervalMs / 1000})`,
        runs: eb('runs', '+', 1),
        failures: outcome.error === undefined ? eb.ref('failures') : eb('failures', '+', 1),
        last_error: outcome.error ?? null,
      }))
      .where('name', '=', name)
      .where('locked_by', '=', instance)
      .execute();
  });
}

/** Runs older than `before` go (the scheduler's own housekeeping). */
export async function pruneJobRuns(db: Kysely<Database>, before: Date): Promise<number> {
  const result = await db.deleteFrom('ops.job_runs').where('started_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
