/**
 * `npm run cluster:test`: the API as it runs in production, on this machine. PostgreSQL (embedded),
 * PgBouncer in transaction mode, Redis, an S3 server (s3rver) and two API instances sharing them;
 * virtual clients drive a mixed MedReport and PtitsPas workload through both instances, then the
 * run asserts what a cluster must keep true: revocation, shared rate limits, shared files, jobs
 * once per cluster, no statement error through the pooler, no failed request. Exits non-zero when
 * any assertion fails; everything it started is stopped and its directory removed, Ctrl-C included.
 *
 * CLUSTER_SECONDS (default 20): how long the workload runs. CLUSTER_CLIENTS (default 8): virtual clients.
 */
import { setTimeout } from 'node:timers/promises';
import { medreportUsers, ptitspasAccounts, SEED } from './cluster/accounts.js';
import { Budgets } from './cluster/budgets.js';
import { type Assertion, checkFilesAcrossInstances, checkRevocation, checkSharedRateLimit } from './cluster/checks.js';
import { checkJobsOnce, checkNoFailure, checkPooler } from './cluster/cluster-checks.js';
import { poolerTotals, samplePooler } from './cluster/pooler.js';
import { Cleanup, log, makeWorkDir, removeDir, stopChild, tail } from './cluster/processes.js';
import { assertionLines, routeLines, throughputLines } from './cluster/report.js';
import { type Cluster, startCluster } from './cluster/topology.js';
import { Traffic } from './cluster/traffic.js';
import { runWorkload } from './cluster/workload.js';

const SECONDS = Number(process.env.CLUSTER_SECONDS ?? 20);
const CLIENTS = Number(process.env.CLUSTER_CLIENTS ?? 8);

async function main(cleanup: Cleanup): Promise<boolean> {
  const started = performance.now();
  const workDir = await makeWorkDir();
  cleanup.defer('remove the work directory', () => removeDir(workDir));
  const cluster = await startCluster(workDir, cleanup);
  const traffic = new Traffic(cluster.instances);

  // The last organization and family are the checks' own: the workload never spends their limits.
  const workload = {
    medreport: medreportUsers(Array.from({ length: SEED.orgs - 1 }, (_, i) => i + 1)),
    ptitspas: ptitspasAccounts(
      Array.from({ length: SEED.families - 1 }, (_, i) => i + 1),
      true,
    ),
  };
  const [revoked, revokedToo, limited, filer] = medreportUsers([SEED.orgs]);
  const [parent] = ptitspasAccounts([SEED.families], false);
  log(`workload: ${CLIENTS} virtual clients for ${SECONDS} s, requests alternating A and B`);
  const sampler = await samplePooler(cluster.pgbouncer, cluster.database.ownerUrl);
  const running = runWorkload(traffic, new Budgets(), { seconds: SECONDS, clients: CLIENTS }, workload);
  // The checks' requests are counted apart: each check judges its own answers.
  const checks = new Traffic(cluster.instances);
  // Revocation is checked while the workload runs: a busy instance is slower to read its
  // listener, which is when a revoked token could slip through.
  await setTimeout(Math.min(5, SECONDS / 4) * 1000);
  log('checks under load: revocation');
  const revocation = await checkRevocation(checks, [revoked!, revokedToo!], parent!);
  const elapsedMs = await running;
  const peaks = await sampler.stop();
  const throughput = throughputLines(traffic, elapsedMs);

  log('checks');
  const assertions: Assertion[] = [
    revocation,
    await checkSharedRateLimit(checks, limited!),
    await checkFilesAcrossInstances(checks, filer!, parent!),
    await checkJobsOnce(cluster.database.ownerUrl, cluster.instances, cluster.metricsToken),
  ];
  const pooler = { peaks, totals: await poolerTotals(cluster.pgbouncer) };
  const exits = await stopInstances(cluster);
  assertions.push(
    await checkPooler(
      [traffic, checks],
      pooler,
      cluster.pgbouncer,
      cluster.instances.map((i) => ({ name: i.name, file: i.child.logFile })),
    ),
    checkNoFailure(traffic),
  );

  const passed = assertions.every((a) => a.passed);
  console.log(
    [
      '',
      ...throughput,
      `  (and ${checks.requestCount} requests by the checks)`,
      'Workload requests by route:',
      ...routeLines(traffic),
      `Instances stopped (SIGTERM): ${exits}`,
      '',
      ...assertionLines(assertions),
      '',
      `${passed ? 'PASSED' : 'FAILED'}: ${assertions.filter((a) => a.passed).length}/${assertions.length} assertions, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n'),
  );
  if (!passed) await printLogs(cluster);
  return passed;
}

async function stopInstances(cluster: Cluster): Promise<string> {
  const codes = await Promise.all(cluster.instances.map((i) => stopChild(i.child)));
  return cluster.instances.map((i, n) => `${i.name} exit code ${codes[n]}`).join(', ');
}

async function printLogs(cluster: Cluster): Promise<void> {
  for (const instance of cluster.instances) {
    console.log(`\n--- instance ${instance.name}'s log (last 60 lines) ---\n${await tail(instance.child.logFile, 60)}`);
  }
  console.log(`\n--- PgBouncer's log (last 40 lines) ---\n${await tail(cluster.pgbouncer.logFile, 40)}`);
}

const cleanup = new Cleanup();
let interrupted = false;

/** Stops everything this run started, then exits: 130 after a signal, else 0 or 1. */
async function finish(passed: boolean): Promise<never> {
  await cleanup.run();
  process.exit(interrupted ? 130 : passed ? 0 : 1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A terminal's Ctrl-C reaches this process and npm relays it again: one cleanup.
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping everything`);
    void finish(false);
  });
}

main(cleanup).then(finish, (err: unknown) => {
  // After a Ctrl-C, what fails is only what the cleanup stopped under the run.
  if (!interrupted) console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  return finish(false);
});
