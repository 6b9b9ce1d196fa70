import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';

// Cluster jobs (plugins/jobs.ts): two instances on one database, each ticking; a job runs once
// per period in the whole cluster, a crashed instance's lease expires and another takes it over,
// every run is recorded with its duration.

const owner = await testDb();
let a: App;
let b: App;

beforeAll(async () => {
  // Ticking fast, so the test sees several chances to run twice.
  a = await buildTestApp({ config: { jobsTickMs: 50 } });
  b = await buildTestApp({ config: { jobsTickMs: 50 } });
});
afterAll(async () => {
  await a.close();
  await b.close();
  await owner.db.destroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runsOf = async (job: string) =>
  (
    await owner.pool.query(
      'select instance, outcome, result, duration_ms, error from ops.job_runs where job = $1 order by id',
      [job],
    )
  ).rows;

describe('cluster jobs', () => {
  it('run once in the cluster, however many instances find them due, and record each run', async () => {
    const name = `test job ${randomUUID()}`;
    let calls = 0;
    const task = async () => {
      calls++;
      await sleep(100); // long enough for the other instance to try meanwhile
      return 7;
    };
    a.jobs.every(name, 3_600_000, task);
    b.jobs.every(name, 3_600_000, task);
    await Promise.all([a.jobs.tick(), b.jobs.tick(), a.jobs.tick(), b.jobs.tick()]);
    await sleep(400); // several ticks of both
    expect(calls).toBe(1);
    const runs = await runsOf(name);
    expect(runs).toEqual([
      {
        instance: expect.stringMatching(/:\d+:[0-9a-f]{6}$/),
        outcome: 'done',
        result: 7,
        duration_ms: expect.any(Number),
        error: null,
      },
    ]);
    expect(runs[0].duration_ms).toBeGreaterThanOrEqual(95);
    expect([a.jobs.instance, b.jobs.instance]).toContain(runs[0].instance);
    const { rows } = await owner.pool.query(
      `select runs, failures, locked_by, next_run_at > now() + interval '59 minutes' as later from ops.jobs where name = $1`,
      [name],
    );
    expect(rows[0]).toEqual({ runs: 1, failures: 0, locked_by: null, later: true });
  });

  it('take over a job whose instance died holding it, once its lease is over', async () => {
    const name = `test job ${randomUUID()}`;
    // A run started by an instance that crashed: the job is held for another 1.5 s.
    await owner.pool.query(
      `insert into ops.jobs (name, next_run_at, locked_by, locked_until) values ($1, now(), 'dead:1:000000', now() + interval '1500 milliseconds')`,
      [name],
    );
    let calls = 0;
    a.jobs.every(name, 3_600_000, async () => ++calls);
    await a.jobs.tick();
    expect(calls).toBe(0);
    await sleep(1_800);
    await a.jobs.tick();
    expect(calls).toBe(1);
    expect(await runsOf(name)).toEqual([
      expect.objectContaining({ instance: a.jobs.instance, outcome: 'done', result: 1 }),
    ]);
  });

  it('record a failure, count it, and try again at the next period', async () => {
    // An instance that ticks only when told: exactly the runs asked for.
    const c = await buildTestApp({ config: { jobsTickMs: 3_600_000 } });
    try {
      const name = `test job ${randomUUID()}`;
      c.jobs.every(name, 200, async () => {
        throw new Error('storage unreachable');
      });
      await c.jobs.tick();
      await sleep(250);
      await c.jobs.tick();
      const runs = await runsOf(name);
      expect(runs.map((r) => [r.instance, r.outcome, r.error])).toEqual([
        [c.jobs.instance, 'failed', 'storage unreachable'],
        [c.jobs.instance, 'failed', 'storage unreachable'],
      ]);
      const { rows } = await owner.pool.query('select runs, failures, last_error from ops.jobs where name = $1', [
        name,
      ]);
      expect(rows[0]).toEqual({ runs: 2, failures: 2, last_error: 'storage unreachable' });
    } finally {
      await c.close();
    }
  });

  it('run the housekeeping the server registers (sync retention, PtitsPas tokens, job history)', async () => {
    const { rows } = await owner.pool.query(
      `select name, runs from ops.jobs where name in ('sync changes past their retention pruned',
         'expired PtitsPas refresh tokens pruned', 'job runs older than 30 days pruned',
         'expired PtitsPas set-password links pruned', 'expired MedReport password reset tokens pruned')
        order by name`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      'expired MedReport password reset tokens pruned',
      'expired PtitsPas refresh tokens pruned',
      'expired PtitsPas set-password links pruned',
      'job runs older than 30 days pruned',
      'sync changes past their retention pruned',
    ]);
    for (const row of rows) expect(row.runs, row.name).toBeGreaterThanOrEqual(1);
  });
});
