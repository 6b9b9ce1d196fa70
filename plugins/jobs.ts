import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { claimJob, ensureJob, finishJob, pruneJobRuns } from '../domain/shared/jobs.js';

interface Job {
  intervalMs: number;
  leaseMs: number;
  task: () => Promise<number>;
  known: boolean;
}

interface Jobs {
  /**
   * Runs `task` every `intervalMs` once in the whole cluster (whichever instance finds it due
   * first), logged with its duration; `task` answers how many rows it handled. `leaseMs` bounds
   * a run: past it, another instance may take the job over (a crash loses nothing but time).
   */
  every(name: string, intervalMs: number, task: () => Promise<number>, options?: { leaseMs?: number }): void;
  /** Looks for due jobs now (tests; otherwise every `tickMs`). */
  tick(): Promise<void>;
  readonly instance: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Jobs;
  }
}

export const HOUR_MS = 3_600_000;
const JOB_RUNS_KEPT_MS = 30 * 86_400_000;

/**
 * Cluster-wide periodic jobs (domain/shared/jobs.ts holds the SQL, docs/architecture.md the
 * design): every instance looks for due jobs every `tickMs` and once ready; claiming is atomic,
 * so each run happens on one instance only. A failure is logged and counted, never thrown.
 */
export default fp<{ tickMs: number }>(
  async (app, { tickMs }) => {
    const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const jobs = new Map<string, Job>();
    const runs = new Counter({
      name: 'job_runs_total',
      help: 'Cluster job runs this instance performed, by job and outcome',
      labelNames: ['job', 'outcome'],
      registers: [app.metrics.registry],
    });

    async function runIfDue(name: string, job: Job) {
      if (!job.known) {
        await ensureJob(app.systemDb, name);
        job.known = true;
      }
      const runId = await claimJob(app.systemDb, name, instance, job.leaseMs);
      if (runId === undefined) return;
      const started = performance.now();
      let result: number | undefined;
      let error: string | undefined;
      try {
        result = await job.task();
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        app.log.warn({ err, job: name }, `job failed: ${name}`);
      }
      const durationMs = performance.now() - started;
      await finishJob(app.systemDb, name, runId, instance, job.intervalMs, { durationMs, result, error });
      runs.inc({ job: name, outcome: error === undefined ? 'done' : 'failed' });
      if (error === undefined)
        app.log.info({ job: name, durationMs: Math.round(durationMs), result }, `job ran: ${name}`);
    }

    let ticking: Promise<void> | undefined;
    const tick = () =>
      (ticking ??= (async () => {
        for (const [name, job] of jobs) {
          await runIfDue(name, job).catch((err) => app.log.warn({ err, job: name }, `job not run: ${name}`));
        }
      })().finally(() => {
        ticking = undefined;
      }));

    app.decorate('jobs', {
      instance,
      every(name, intervalMs, task, { leaseMs = 10 * 60_000 } = {}) {
        jobs.set(name, { intervalMs, leaseMs, task, known: false });
      },
      tick,
    } satisfies Jobs);
    app.jobs.every('job runs older than 30 days pruned', 86_400_000, () =>
      pruneJobRuns(app.systemDb, new Date(Date.now() - JOB_RUNS_KEPT_MS)),
    );

    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      void tick();
      timer = setInterval(() => void tick(), tickMs).unref();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await ticking;
    });
  },
  { name: 'jobs', dependencies: ['db', 'metrics'] },
);
