import type { Generated } from 'kysely';
import type { CreatedAt, NullableTimestamp } from './column-types.js';

/** Cluster-wide periodic jobs (migration 0022, plugins/jobs.ts). */
interface JobsTable {
  name: string;
  next_run_at: CreatedAt;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  runs: Generated<number>;
  failures: Generated<number>;
  last_error: string | null;
}

interface JobRunsTable {
  id: Generated<number>;
  job: string;
  instance: string;
  started_at: CreatedAt;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
  outcome: 'done' | 'failed' | null;
  result: number | null;
  error: string | null;
}

export interface OpsTables {
  'ops.jobs': JobsTable;
  'ops.job_runs': JobRunsTable;
}
