import { readFile } from 'node:fs/promises';
import { APP_ROLE } from '../../db/app-role.js';
import type { PgBouncer } from '../pgbouncer.js';
import type { Assertion } from './checks.js';
import type { PoolerPeaks, PoolerTotals } from './pooler.js';
import { type Instance, ownerQuery } from './services.js';
import { POOL_SIZE } from './topology.js';
import type { Traffic } from './traffic.js';

/** job_runs_total of one instance's GET /metrics, by job (runs that ended, done or failed). */
async function jobRunsOf(instance: Instance, token: string): Promise<Map<string, number>> {
  const res = await fetch(`${instance.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /metrics on ${instance.name}: ${res.status}`);
  const runs = new Map<string, number>();
  for (const match of (await res.text()).matchAll(/^job_runs_total\{job="([^"]+)",outcome="[^"]+"\} (\d+)/gm)) {
    runs.set(match[1]!, (runs.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return runs;
}

/**
 * Each cluster job ran once: ops.job_runs holds exactly one finished run of it, and the two
 * instances' job_runs_total add up to one (both ticked their jobs at start).
 */
export async function checkJobsOnce(ownerUrl: string, instances: Instance[], metricsToken: string): Promise<Assertion> {
  const rows = await ownerQuery<{ name: string; runs: number; done: number }>(
    ownerUrl,
    `select j.name, count(r.id)::int as runs, count(r.id) filter (where r.outcome = 'done')::int as done
       from ops.jobs j left join ops.job_runs r on r.job = j.name group by j.name order by j.name`,
  );
  const perInstance = await Promise.all(instances.map((i) => jobRunsOf(i, metricsToken)));
  let passed = rows.length > 0;
  const details = rows.map(({ name, runs, done }) => {
    const counted = perInstance.map((m) => m.get(name) ?? 0);
    const ranOn = instances.filter((_, i) => counted[i]! > 0).map((i) => i.name);
    const once = runs === 1 && done === 1 && counted.reduce((a, b) => a + b, 0) === 1;
    passed &&= once;
    return `${once ? 'once' : 'NOT ONCE'}: "${name}": ops.job_runs ${runs} (${done} done), job_runs_total ${instances.map((inst, i) => `${inst.name} ${counted[i]}`).join(' + ')} (ran on ${ranOn.join(', ') || 'none'})`;
  });
  return { name: `cluster jobs ran exactly once across both instances (${rows.length} jobs)`, passed, details };
}

/** Lines of a pino log at error level or above, and lines that are not JSON but speak of an error. */
async function errorLines(file: string): Promise<{ errors: string[]; warnings: Map<string, number> }> {
  const errors: string[] = [];
  const warnings = new Map<string, number>();
  for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
    let entry: { level?: number; msg?: string; err?: { message?: string } } | undefined;
    try {
      entry = JSON.parse(line);
    } catch {
      if (/error/i.test(line)) errors.push(line.slice(0, 300));
      continue;
    }
    const text = `${entry?.msg ?? ''}${entry?.err?.message ? `: ${entry.err.message}` : ''}`;
    if ((entry?.level ?? 0) >= 50) errors.push(text.slice(0, 300));
    else if ((entry?.level ?? 0) >= 40) warnings.set(text.slice(0, 160), (warnings.get(text.slice(0, 160)) ?? 0) + 1);
  }
  return { errors, warnings };
}

/**
 * Nothing failed on the way to the database through PgBouncer: no 5xx, no error in either
 * instance's log (read after they stopped), nothing alarming in PgBouncer's log, and its admin
 * console saw the traffic with fewer server connections than clients.
 */
export async function checkPooler(
  traffics: Traffic[],
  pooler: { peaks: PoolerPeaks; totals: PoolerTotals },
  bouncer: PgBouncer,
  logs: Array<{ name: string; file: string }>,
): Promise<Assertion> {
  const details: string[] = [];
  let passed = true;
  const expect = (ok: boolean, line: string) => {
    passed &&= ok;
    details.push(`${ok ? 'ok' : 'FAILED'}: ${line}`);
  };
  const answers5xx = traffics.flatMap((t) => t.statuses5xx);
  const requests = traffics.reduce((n, t) => n + t.requestCount, 0);
  const first5xx = answers5xx[0] ? `, first: ${answers5xx[0].method} ${answers5xx[0].path} ${answers5xx[0].body}` : '';
  expect(answers5xx.length === 0, `${answers5xx.length} answers 5xx${first5xx}`);
  for (const { name, file } of logs) {
    const { errors, warnings } = await errorLines(file);
    const first = errors.length ? `, first: ${errors[0]}` : '';
    expect(errors.length === 0, `instance ${name}'s log: ${errors.length} error lines${first}`);
    for (const [msg, n] of warnings) details.push(`   (instance ${name} warned ${n}×: ${msg})`);
  }
  const alarming = (await readFile(bouncer.logFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => /ERROR|prepared statement/i.test(l));
  const first = alarming.length ? `, first: ${alarming[0]}` : '';
  expect(alarming.length === 0, `PgBouncer's log: ${alarming.length} lines with ERROR or "prepared statement"${first}`);
  const { totals, peaks } = pooler;
  expect(
    totals.transactions > 0,
    `SHOW STATS: ${totals.transactions} transactions, ${totals.queries} queries through PgBouncer for ${requests} HTTP requests`,
  );
  expect(
    peaks.clients > peaks.servers && peaks.servers <= POOL_SIZE,
    `SHOW POOLS, ${peaks.samples} samples: up to ${peaks.clients} client connections from the instances shared up to ` +
      `${peaks.servers} server connections (pool size ${POOL_SIZE}); up to ${peaks.waiting} clients waiting, longest wait ${peaks.maxWaitMs.toFixed(1)} ms`,
  );
  expect(
    peaks.backends <= POOL_SIZE,
    `PostgreSQL saw at most ${peaks.backends} ${APP_ROLE} connections at once besides the LISTEN ones: no more than PgBouncer's ${POOL_SIZE}`,
  );
  return { name: 'no statement error through the pooler, and the traffic went through it', passed, details };
}

/** Every answer of the workload had its expected status, and every property checked along the way held. */
export function checkNoFailure(traffic: Traffic): Assertion {
  const details = traffic.failures
    .slice(0, 20)
    .map((f) => `${f.method} ${f.path} on ${f.instance}: ${f.status}, expected ${f.expected}: ${f.body}`);
  if (traffic.failures.length > 20) details.push(`… and ${traffic.failures.length - 20} more`);
  let passed = traffic.failures.length === 0;
  for (const [property, tally] of traffic.tallies) {
    passed &&= tally.failed === 0;
    details.push(
      `${tally.failed === 0 ? 'ok' : 'FAILED'}: ${property}: ${tally.passed}/${tally.passed + tally.failed}${tally.examples.length ? ` (${tally.examples.join('; ')})` : ''}`,
    );
  }
  return {
    name: `no workload request failed (${traffic.requestCount} requests, ${traffic.failures.length} with an unexpected status)`,
    passed,
    details,
  };
}
