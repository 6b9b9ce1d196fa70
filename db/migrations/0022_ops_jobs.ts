import { type Kysely, sql } from 'kysely';

// Periodic jobs that run once per cluster, not once per instance (plugins/jobs.ts): one row per
// job, claimed with a lease by whichever instance finds it due; a lease left by a crashed instance
// expires and another instance runs the job. `job_runs` keeps each run (who, when, how long, how
// it ended) for 30 days.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create schema ops`.execute(db);
  await sql`
    create table ops.jobs (
      name text primary key,
      next_run_at timestamptz not null default now(),
      locked_by text,
      locked_until timestamptz,
      runs integer not null default 0,
      failures integer not null default 0,
      last_error text
    )`.execute(db);
  await sql`
    create table ops.job_runs (
      id bigint generated always as identity primary key,
      job text not null references ops.jobs (name) on delete cascade,
      instance text not null,
      started_at timestamptz not null default clock_timestamp(),
      finished_at timestamptz,
      duration_ms integer,
      outcome text check (outcome in ('done', 'failed')),
      result integer,
      error text
    )`.execute(db);
  await sql`create index job_runs_job_idx on ops.job_runs (job, started_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop schema ops cascade`.execute(db);
}
