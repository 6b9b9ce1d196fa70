/**
 * `npm run bench`: the API's hot paths against a raw-driver baseline measured in the same run, on
 * realistic multi-tenant data, from a separate load-generator process.
 *
 * 1. builds the server (`dist/`), starts a PostgreSQL for the bench under `.bench/` with
 *    pg_stat_statements, and seeds it with `seed:demo` (50 organizations × 10 users, 100,000
 *    patients, and one more organization of 100,000 for the export);
 * 2. starts the compiled server (NODE_ENV=production, RATE_LIMITS=off) and the bare baseline
 *    (scripts/bench-baseline.ts), logs every demo user in, and cycles requests over all of them;
 * 3. runs each scenario against the baseline and the server, BENCH_ROUNDS interleaved rounds of
 *    BENCH_SECONDS each, and prints the medians: req/s, p50, p99, errors, statements per request
 *    (pg_stat_statements, per database role), server RSS, and the ratio to the baseline;
 * 4. then the 100,000-row CSV export against PostgreSQL's COPY (after a warm-up, 3 × BENCH_ROUNDS
 *    interleaved downloads, judged on the median of the rounds' ratios), a login storm with a
 *    cheap request beside it, and a SIGTERM under load.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ensureDatabase, startEmbeddedCluster } from '../db/embedded.js';
import { DEMO_PASSWORD, demoEmail, demoOrganizations } from '../db/seed-demo.js';
import { measurePdfs, seedContrats } from './bench-documents.js';
import { liveReport, measureLive, readProbe } from './bench-live.js';
import type { LoadJob, LoadRequest, LoadResult } from './bench-load.js';
import { measurePooler, type PoolerSample } from './bench-pooler.js';
import {
  DOSSIER_CHILDREN,
  measureUploads,
  ptitspasTokens,
  seedJournal,
  seedPtitsPas,
  startS3rver,
} from './bench-ptitspas.js';
import { cpuMs, freePort, rssMb } from './process-stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Only these scenarios (read, list, user, write, dossiers, me, enfant, evenements, pooler, sync, export, upload, pdf, live, storm, flood, stop), for a profiling session. */
const ONLY = process.env.BENCH_SCENARIOS?.split(',');
/** Start the server with --cpu-prof; profiles land in .bench/profiles. */
const PROFILE = process.env.BENCH_PROFILE === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Rounds of the short side-by-side comparisons (the sync push's, the export's): half a second to a second each. */
const SHORT_ROUNDS = 3 * ROUNDS;
/** Print each side's costliest statements after each run (pg_stat_statements), for a profiling session. */
const STATEMENTS = process.env.BENCH_STATEMENTS === '1';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DATA = { orgs: 50, usersPerOrg: 10, patients: 100_000, largeOrgPatients: 100_000, seed: 42 };
/** Children the child-read scenario cycles over (of the 10,000 seeded). */
const ENFANT_SAMPLE = 500;
/** The server's node flags, as package.json's start script and the Dockerfile give them (docs/benchmarks.md, memory). */
const SERVER_NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=8 --heap-growing-percent=30')
  .split(' ')
  .filter(Boolean);
/** Likewise: argon2's 19 MiB blocks always mmapped, so that they go back to the system once freed. */
const SERVER_GLIBC_TUNABLES = process.env.BENCH_GLIBC_TUNABLES ?? 'glibc.malloc.mmap_threshold=131072';
const READ_SCENARIO = '`GET /api/patients/:uuid`';
const LIST_SCENARIO = '`GET /api/patients?limit=25`';
/** Issue 28: the list at least this times the single read, both the API's. */
const LIST_TO_READ = 0.3;
/** Issue 28: a 100-item push per item at least this many times faster than single creates. */
const PUSH_SPEEDUP = 30;
/** Issue 28: the CSV export at least this times PostgreSQL's COPY. */
const EXPORT_TO_COPY = 0.7;
/** Issue 28: from the start of the compiled server on an existing data directory to its first 200 on /health. */
const START_SECONDS = 3;
/** Issue 28: the compiled server's resident memory 5 s after that start, in MB. */
const IDLE_RSS_MB = 120;
/** Issue 28: the API's resident memory under the table's load (its largest sample), in MB. */
const LOADED_RSS_MB = 180;
const ROOT = path.resolve('.bench');
const SECRET = randomBytes(48).toString('base64url');
const NIR_KEY = randomBytes(32).toString('base64');
const children: ChildProcess[] = [];

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** A child process; what it prints is kept (the server logs at warn: only trouble shows). */
function start(command: string, args: string[], env: Record<string, string>): ChildProcess & { output: string[] } {
  const child = Object.assign(
    spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
    {
      output: [] as string[],
    },
  );
  child.stdout!.on('data', (d: Buffer) => child.output.push(String(d)));
  child.stderr!.on('data', (d: Buffer) => child.output.push(String(d)));
  children.push(child);
  return child;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

/** Runs load jobs in the separate load-generator process; resolves with one result per job. */
async function load(jobs: LoadJob[]): Promise<LoadResult[]> {
  const file = path.join(ROOT, `jobs-${process.pid}.json`);
  await writeFile(file, JSON.stringify(jobs));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-load.ts', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out) as LoadResult[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** The median of each round's own ratio: the machine's speed moves between rounds, less within one. */
const medianRatio = (numerators: number[], denominators: number[]) =>
  median(numerators.map((value, round) => value / denominators[round]!));

async function main() {
  await mkdir(ROOT, { recursive: true });
  log('building the server (npm run build)');
  if (spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');

  const cluster = await startEmbeddedCluster({
    dir: path.join(ROOT, 'cluster'),
    whenRunning: 'exclusive',
    settings: [
      'shared_preload_libraries=pg_stat_statements',
      'pg_stat_statements.max=10000',
      'pg_stat_statements.track_planning=on',
    ],
    logger: { info: log, debug() {} },
  });
  try {
    await ensureDatabase(cluster.url('postgres'), 'bench');
    const ownerUrl = cluster.url('bench');
    log('seeding (npm run cli -- seed:demo; idempotent, so a second run only checks)');
    const seed = spawnSync(
      process.execPath,
      [
        'dist/src/cli.js',
        'seed:demo',
        ...['--orgs', DATA.orgs, '--users-per-org', DATA.usersPerOrg, '--patients', DATA.patients].map(String),
        ...['--large-org', DATA.largeOrgPatients, '--seed', DATA.seed].map(String),
      ],
      // The demo dossiers' pieces go to the storage the benchmarked server uses (DATA_DIR/files).
      {
        stdio: 'inherit',
        env: { ...process.env, DATABASE_URL: ownerUrl, DATA_DIR: path.join(ROOT, 'data'), LOG_LEVEL: 'warn' },
      },
    );
    if (seed.status !== 0) throw new Error('seeding failed');
    await run(ownerUrl);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await cluster.stop();
  }
}

async function run(ownerUrl: string) {
  const owner = new pg.Client({ connectionString: ownerUrl });
  // The cluster stops when a run fails: that must not hide the failure behind an 'error' event.
  owner.on('error', (err) => log(`bench database connection: ${err.message}`));
  await owner.connect();
  await owner.query('create extension if not exists pg_stat_statements');
  // The same data shape every run: what earlier runs' write scenarios added goes, and the
  // visibility map is fresh (index-only scans), as it would be on a settled production table.
  await owner.query(`delete from medreport.activity_log where entity_name = 'Patient Bench'`);
  await owner.query(`delete from medreport.patients where name = 'Patient Bench'`);
  // The feed as a server that has run a while holds it: an entry for each seeded patient (the seed
  // writes the table, not the feed) and none of earlier runs' writes. An emptied feed is a table
  // PostgreSQL's statistics call empty while the run fills it, and its reads get plans no running
  // server gets (a sequential scan for a device's watermark: 1–3 ms a push, docs/benchmarks.md).
  await owner.query(`delete from medreport.changes where entity = 'patients' and data ->> 'name' = 'Patient Bench'`);
  const backfilled = await owner.query(`
    insert into medreport.changes (organization_id, entity, uuid, action, data, user_id)
    select p.organization_id, 'patients', p.uuid, 'upsert', to_jsonb(p) - 'organization_id' - 'deleted_at', p.created_by
      from medreport.patients p
     where not exists (select from medreport.changes c where c.organization_id = p.organization_id and c.uuid = p.uuid)`);
  if (backfilled.rowCount) log(`the feed: an entry for each of ${backfilled.rowCount} seeded patients`);
  await owner.query('vacuum analyze');
  // The baseline's own role, so pg_stat_statements tells its statements from the server's.
  const baselinePassword = randomBytes(18).toString('hex');
  await owner.query(
    `do $$ begin create role bench_baseline login bypassrls; exception when duplicate_object then null; end $$`,
  );
  await owner.query(`alter role bench_baseline password '${baselinePassword}'`);
  await owner.query('grant usage on schema medreport to bench_baseline');
  await owner.query('grant select, insert on all tables in schema medreport to bench_baseline');
  await owner.query('grant usage on schema ptitspas to bench_baseline');
  await owner.query('grant select on all tables in schema ptitspas to bench_baseline');
  log(`PtitsPas: ${DOSSIER_CHILDREN} children with their dossiers, 20 gestionnaires`);
  const gestionnaires = await seedPtitsPas(owner, 20);
  const contrats = await seedContrats(owner);
  const journal = await seedJournal(owner);
  const baselineUrl = Object.assign(new URL(ownerUrl), {
    username: 'bench_baseline',
    password: baselinePassword,
  }).toString();

  const apiPort = await freePort();
  const basePort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const base = `http://127.0.0.1:${basePort}`;
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'profiles')}`] : [];
  const serverEnv = (port: number): Record<string, string> => ({
    GLIBC_TUNABLES: SERVER_GLIBC_TUNABLES,
    NODE_ENV: 'production',
    DATABASE_URL: ownerUrl,
    DATA_DIR: path.join(ROOT, 'data'),
    JWT_SECRET: SECRET,
    PTITSPAS_NIR_KEYS: `bench:${NIR_KEY}`,
    RATE_LIMITS: 'off',
    // The load generator names each client's address (X-Forwarded-For), as a proxy would.
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    SMTP_URL: 'smtp://127.0.0.1:9',
  });
  const server = start(process.execPath, [...profile, ...SERVER_NODE_FLAGS, 'dist/src/server.js'], serverEnv(apiPort));
  const s3rver = await startS3rver(path.join(ROOT, 'data', 's3rver'));
  const baseline = start(process.execPath, ['--import', 'tsx', 'scripts/bench-baseline.ts'], {
    BASELINE_S3_ENDPOINT: s3rver.endpoint,
    BASELINE_BLOB_DIR: path.join(ROOT, 'data', 'bare-blobs'),
    BASELINE_DATABASE_URL: baselineUrl,
    BASELINE_JWT_SECRET: SECRET,
    BASELINE_PORT: String(basePort),
  });
  await waitFor(`${api}/ready`);
  await waitFor(`${base}/bare/health`);

  // Every demo user logs in (argon2 at OWASP cost, as in production): one token each; not when
  // only PtitsPas scenarios run.
  const medreport =
    !ONLY ||
    ONLY.some(
      (key) => !['dossiers', 'enfants', 'me', 'enfant', 'evenements', 'upload', 'pdf', 'live', 'start'].includes(key),
    );
  if (medreport) log('logging in every demo user');
  const orgs = demoOrganizations({ ...DATA, largeOrgPatients: 0 });
  const users: Array<{ token: string; org: number }> = [];
  for (const [index, org] of medreport ? orgs.entries() : []) {
    const tokens = await Promise.all(
      Array.from({ length: DATA.usersPerOrg }, (_, u) => login(api, demoEmail(org.key, u))),
    );
    for (const token of tokens) users.push({ token, org: index });
  }
  const ptitspasTokensOf = await ptitspasTokens(api, gestionnaires);
  const [journalToken] = await ptitspasTokens(api, [journal.parent]);
  // One child's year, 20 events a day, a day's page each request (pages 1 to 365 in turn).
  const journalPages = Array.from({ length: 365 }, (_, i) => i + 1);
  const enfants = (await owner.query('select id from ptitspas.enfants order by id limit $1', [ENFANT_SAMPLE])).rows.map(
    (r) => r.id as string,
  );
  const uuids: string[][] = [];
  for (const org of orgs) {
    const { rows } = await owner.query(
      `select p.uuid from medreport.patients p join medreport.organizations o on o.id = p.organization_id
        where o.code = $1 order by p.uuid limit 40`,
      [org.code],
    );
    uuids.push(rows.map((r) => r.uuid as string));
  }
  const roles = await owner.query(
    `select rolname, oid from pg_roles where rolname in ('medreport_app', 'bench_baseline')`,
  );
  const roleOid = Object.fromEntries(roles.rows.map((r) => [r.rolname, Number(r.oid)]));

  const every = <T>(make: (user: { token: string; org: number }, i: number) => T) => users.map(make);
  // Each scenario's target: the API's req/s at least this times the baseline's (issue 28), when it has one.
  const scenarios: Array<{ key: string; name: string; ours: LoadJob; base: LoadJob; target?: number }> = [
    {
      key: 'read',
      target: 1.0,
      name: READ_SCENARIO,
      ours: job(
        api,
        'GET',
        every((u, i) => ({ path: `/api/patients/${uuids[u.org]![i % 40]}`, token: u.token })),
      ),
      base: job(
        base,
        'GET',
        every((u, i) => ({ path: `/bare/patients/${uuids[u.org]![i % 40]}`, token: u.token })),
      ),
    },
    {
      key: 'list',
      target: 0.9,
      name: LIST_SCENARIO,
      ours: job(
        api,
        'GET',
        every((u) => ({ path: '/api/patients?limit=25', token: u.token })),
      ),
      base: job(
        base,
        'GET',
        every((u) => ({ path: '/bare/patients', token: u.token })),
      ),
    },
    {
      key: 'user',
      target: 0.9,
      name: '`GET /api/user`',
      ours: job(
        api,
        'GET',
        every((u) => ({ path: '/api/user', token: u.token })),
      ),
      base: job(
        base,
        'GET',
        every((u) => ({ path: '/bare/user', token: u.token })),
      ),
    },
    {
      key: 'write',
      name: '`POST /api/patients`',
      ours: job(
        api,
        'POST',
        every((u) => ({
          path: '/api/patients',
          token: u.token,
          body: { name: 'Patient Bench', phone: '+221770000000' },
        })),
      ),
      base: job(
        base,
        'POST',
        every((u) => ({
          path: '/bare/patients',
          token: u.token,
          body: { name: 'Patient Bench', phone: '+221770000000' },
        })),
      ),
    },
    {
      key: 'dossiers',
      target: 0.9,
      name: `\`GET /api/v1/dossiers\` (gestionnaire, ${DOSSIER_CHILDREN} children)`,
      ours: job(
        api,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/api/v1/dossiers?limit=20', token })),
      ),
      base: job(
        base,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/bare/dossiers', token })),
      ),
    },
    {
      key: 'enfants',
      target: 0.9,
      name: `\`GET /api/v1/enfants\` (gestionnaire, ${DOSSIER_CHILDREN} children)`,
      ours: job(
        api,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/api/v1/enfants?limit=20', token })),
      ),
      base: job(
        base,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/bare/enfants', token })),
      ),
    },
    {
      key: 'me',
      target: 2.0,
      name: '`GET /api/v1/auth/me` (20 gestionnaires)',
      ours: job(
        api,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/api/v1/auth/me', token })),
      ),
      base: job(
        base,
        'GET',
        ptitspasTokensOf.map((token) => ({ path: '/bare/ptitspas/me', token })),
      ),
    },
    {
      key: 'enfant',
      target: 0.9,
      name: `\`GET /api/v1/enfants/:id\` (20 gestionnaires, ${ENFANT_SAMPLE} of ${DOSSIER_CHILDREN} children)`,
      ours: job(
        api,
        'GET',
        enfants.map((id, i) => ({
          path: `/api/v1/enfants/${id}`,
          token: ptitspasTokensOf[i % ptitspasTokensOf.length]!,
        })),
      ),
      base: job(
        base,
        'GET',
        enfants.map((id, i) => ({
          path: `/bare/enfants/${id}`,
          token: ptitspasTokensOf[i % ptitspasTokensOf.length]!,
        })),
      ),
    },
    {
      key: 'evenements',
      target: 0.9,
      name: '`GET /api/v1/evenements?id_enfant=&page=` (a parent, one child, a year of 20 events a day)',
      ours: job(
        api,
        'GET',
        journalPages.map((page) => ({
          path: `/api/v1/evenements?id_enfant=${journal.enfant}&page=${page}&limit=20`,
          token: journalToken,
        })),
      ),
      base: job(
        base,
        'GET',
        journalPages.map((page) => ({
          path: `/bare/evenements?id_enfant=${journal.enfant}&page=${page}`,
          token: journalToken,
        })),
      ),
    },
  ];

  const results = new Map<string, { ours: Sample[]; base: Sample[]; target?: number }>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios.filter((s) => !ONLY || ONLY.includes(s.key))) {
      const entry = results.get(scenario.name) ?? { ours: [], base: [], target: scenario.target };
      results.set(scenario.name, entry);
      // Alternate who goes first, so neither always meets the warmer cache.
      const order = round % 2 ? (['base', 'ours'] as const) : (['ours', 'base'] as const);
      for (const side of order) {
        log(`round ${round}/${ROUNDS}: ${scenario.name} (${side === 'ours' ? 'API' : 'baseline'})`);
        const target = side === 'ours' ? scenario.ours : scenario.base;
        await load([{ ...target, seconds: 2 }]); // warm-up
        await owner.query('select pg_stat_statements_reset()');
        const process_ = side === 'ours' ? server : baseline;
        const cpuBefore = cpuMs(process_.pid!);
        const [result] = await load([target]);
        const cpu = (cpuMs(process_.pid!) - cpuBefore) / Math.max(1, result!.requests);
        const { rows } = await owner.query(
          `select coalesce(sum(calls), 0)::bigint as calls from pg_stat_statements where userid = $1`,
          [roleOid[side === 'ours' ? 'medreport_app' : 'bench_baseline']],
        );
        if (STATEMENTS) await printStatements(owner, roleOid[side === 'ours' ? 'medreport_app' : 'bench_baseline']!);
        entry[side].push({
          ...result!,
          statements: Number(rows[0].calls) / Math.max(1, result!.requests),
          cpu,
          rss: rssMb(process_.pid!),
        });
      }
    }
  }

  const wanted = (key: string) => !ONLY || ONLY.includes(key);
  const startServer = async (overrides: Record<string, string>) => {
    const port = await freePort();
    const process_ = start(process.execPath, [...SERVER_NODE_FLAGS, 'dist/src/server.js'], {
      ...serverEnv(port),
      ...overrides,
    });
    await waitFor(`http://127.0.0.1:${port}/ready`);
    return { url: `http://127.0.0.1:${port}`, process: process_ };
  };
  const pooler = wanted('pooler')
    ? await measurePooler({
        ownerUrl,
        secret: SECRET,
        rounds: ROUNDS,
        jobs: scenarios
          .filter((s) => ['read', 'list', 'write'].includes(s.key))
          .map((s) => ({ name: s.name, direct: s.ours })),
        direct: server,
        startServer,
        load,
        log,
      })
    : undefined;
  const sync = wanted('sync') ? await measureSync(api, users) : undefined;
  const exportRun = wanted('export') ? await measureExport(api, base, server, baseline) : undefined;
  const uploads = wanted('upload')
    ? await measureUploads({
        api,
        base,
        server,
        s3Endpoint: s3rver.endpoint,
        emails: gestionnaires,
        startServer,
      })
    : undefined;
  const pdfs = wanted('pdf')
    ? await measurePdfs({
        ownerUrl,
        api,
        server,
        ids: contrats,
        tokens: () => ptitspasTokens(api, gestionnaires),
        seconds: SECONDS,
        rounds: ROUNDS,
        async loadApi(tokens) {
          const requests = contrats.map((id, i) => ({
            path: `/api/v1/contrats/${id}/pdf`,
            token: tokens[i % tokens.length],
          }));
          const [result] = await load([{ url: api, method: 'GET', connections: 10, seconds: SECONDS, requests }]);
          return result!;
        },
      })
    : undefined;
  const live = wanted('live')
    ? await measureLive({
        owner,
        ownerUrl,
        secret: SECRET,
        root: ROOT,
        seconds: SECONDS,
        load,
        log,
        async startServer(name) {
          const port = await freePort();
          const file = path.join(ROOT, `probe-${port}.json`);
          const process_ = start(
            process.execPath,
            ['--expose-gc', ...SERVER_NODE_FLAGS, '--import', './scripts/bench-probe.ts', 'dist/src/server.js'],
            { ...serverEnv(port), BENCH_PROBE_FILE: file },
          );
          await waitFor(`http://127.0.0.1:${port}/ready`);
          log(`live: ${name} on port ${port}`);
          return { url: `http://127.0.0.1:${port}`, process: process_, probe: () => readProbe(process_.pid!, file) };
        },
      })
    : undefined;
  const storm = wanted('storm') ? await loginStorm(api, users) : undefined;
  const flood = wanted('flood') ? await hashFlood(api, users) : undefined;
  const stop = wanted('stop') ? await stopUnderLoad(api, users, server) : undefined;
  if (PROFILE && server.exitCode === null) {
    server.kill('SIGTERM'); // the profile is written at a clean exit
    await new Promise((r) => server.on('exit', r));
  }
  await owner.end();
  await s3rver.close();

  const startRun = wanted('start') ? await measureStart() : undefined;
  const missed = report(results, sync, exportRun, storm, flood, stop, uploads, pdfs, live, pooler, startRun);
  if (missed > 0) {
    log(`${missed} target(s) missed`);
    process.exitCode = 1;
  }
}

async function printStatements(owner: pg.Client, role: number) {
  const { rows } = await owner.query(
    `select calls, round(mean_exec_time::numeric, 3) as mean_ms, round(mean_plan_time::numeric, 3) as plan_ms,
            shared_blks_hit / greatest(calls, 1) as blocks, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) as query
       from pg_stat_statements where userid = $1 order by total_exec_time desc limit 5`,
    [role],
  );
  for (const r of rows) log(`  ${r.calls} × ${r.mean_ms} ms (plan ${r.plan_ms}), ${r.blocks} blocks: ${r.query}`);
}

interface Sample extends LoadResult {
  statements: number;
  /** Server CPU per request, ms. */
  cpu: number;
  rss: number;
}

function job(url: string, method: 'GET' | 'POST', requests: LoadRequest[]): LoadJob {
  return { url, method, connections: CONNECTIONS, seconds: SECONDS, requests };
}

async function login(api: string, email: string): Promise<string> {
  const res = await fetch(`${api}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: DEMO_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login of ${email}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Downloads `url` once, sampling `pid`'s RSS every 10 ms; rows/s and the peak RSS growth. */
async function timedDownload(url: string, token: string, pid: number) {
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 10);
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const ms = performance.now() - started;
  const serverCpuMs = cpuMs(pid) - cpuBefore;
  clearInterval(sampler);
  const rows = text.split('\n').filter(Boolean).length - 1;
  return {
    status: res.status,
    rows,
    mb: text.length / 1e6,
    ms,
    rowsPerSecond: rows / (ms / 1000),
    peakGrowthMb: peak - before,
    serverCpuMs,
  };
}

/** A page of GET /api/sync/changes. */
type ChangesPage = { cursor: string; has_more: boolean; changes: Record<string, unknown[]> };

/**
 * Sync against plain REST, per item: 100 single `POST /api/patients` one after the other against
 * ten 100-item pushes; then draining 10,000 changes in pages of 500.
 */
async function measureSync(api: string, users: Array<{ token: string; org: number }>) {
  log('sync: 100-item pushes against single POSTs, and draining 10,000 changes');
  const token = users.find((u) => u.org === 1)!.token;
  const call = async <T = unknown>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${api}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  const batch = () => ({
    patients: Array.from({ length: 100 }, () => ({
      uuid: randomUUID(),
      name: 'Patient Bench',
      phone: '+221770000000',
      updated_at: new Date().toISOString(),
    })),
  });
  const single: number[] = [];
  const pushed: number[] = [];
  // Warm-up: the first push compiles the item validators, and the code run once per batch is
  // optimised only after some tens of batches (a probe: 4–6 ms of server CPU a batch over the first
  // 50, ~3 ms from about the 100th). Both paths get as hot as a running server's before timing.
  for (let i = 0; i < 100; i++) {
    await call('POST', '/api/sync/batch', batch());
    await call('POST', '/api/patients', { name: 'Patient Bench', phone: '+221770000000' });
  }
  // A round is half a second: more of them than the load scenarios' rounds, for a steadier median.
  for (let round = 0; round < SHORT_ROUNDS; round++) {
    let started = performance.now();
    for (let i = 0; i < 100; i++)
      await call('POST', '/api/patients', { name: 'Patient Bench', phone: '+221770000000' });
    single.push((performance.now() - started) / 100);
    // Ten batches of 100 a round: a steadier figure than one batch timed alone.
    const batches = Array.from({ length: 10 }, batch);
    started = performance.now();
    for (const body of batches) await call('POST', '/api/sync/batch', body);
    pushed.push((performance.now() - started) / 1000);
  }
  let { cursor } = await call<ChangesPage>('GET', '/api/sync/changes?limit=1000');
  for (let page = await call<ChangesPage>('GET', `/api/sync/changes?since=${cursor}&limit=1000`); ; ) {
    cursor = page.cursor;
    if (!page.has_more) break;
    page = await call<ChangesPage>('GET', `/api/sync/changes?since=${cursor}&limit=1000`);
  }
  for (let i = 0; i < 100; i++) await call('POST', '/api/sync/batch', batch());
  const started = performance.now();
  let changes = 0;
  let pages = 0;
  for (let since = cursor; ; pages++) {
    const page = await call<ChangesPage>('GET', `/api/sync/changes?since=${since}&limit=500`);
    changes += Object.values(page.changes as Record<string, unknown[]>).reduce((n, list) => n + list.length, 0);
    since = page.cursor;
    if (!page.has_more) break;
  }
  return {
    singleMs: median(single),
    pushMs: median(pushed),
    // Each round's creates and pushes run back to back, on the machine as it was then.
    speedup: medianRatio(single, pushed),
    drain: { changes, pages: pages + 1, ms: performance.now() - started },
  };
}

/**
 * The compiled server started on a data directory of its own (its embedded PostgreSQL, as
 * `npm start` runs, development settings), once to create it, then three times: the time from the
 * process's start to its first 200 on /health, and its resident memory 5 s later, idle.
 */
async function measureStart() {
  log('start: the compiled server on an existing data directory, to its first 200 on /health');
  const dataDir = path.join(ROOT, 'start-data');
  const seconds: number[] = [];
  const idleRssMb: number[] = [];
  for (let run = 0; run < 4; run++) {
    const port = await freePort();
    const started = performance.now();
    const child = start(process.execPath, [...SERVER_NODE_FLAGS, 'dist/src/server.js'], {
      GLIBC_TUNABLES: SERVER_GLIBC_TUNABLES,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    await waitFor(`http://127.0.0.1:${port}/health`);
    const elapsed = (performance.now() - started) / 1000;
    await sleep(5000);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    if (run === 0) continue; // the first start creates the directory (initdb)
    seconds.push(elapsed);
    idleRssMb.push(rss);
  }
  return { seconds, idleRssMb };
}

async function measureExport(api: string, base: string, server: ChildProcess, baseline: ChildProcess) {
  log('export: 100,000 rows, the API against COPY ... TO STDOUT');
  const token = await login(api, demoEmail('export', 0));
  const runs = {
    ours: [] as Awaited<ReturnType<typeof timedDownload>>[],
    base: [] as Awaited<ReturnType<typeof timedDownload>>[],
  };
  const bare = () => timedDownload(`${base}/bare/export`, token, baseline.pid!);
  const ours = () => timedDownload(`${api}/api/patients/export?format=csv`, token, server.pid!);
  // Warm-up, not counted: a process's first exports run its code cold (690 ms against ~300 ms
  // warm for the same 100,000 rows in a probe). Then interleaved rounds, as many as the push's.
  for (let i = 0; i < 2; i++) {
    await bare();
    await ours();
  }
  for (let round = 0; round < SHORT_ROUNDS; round++) {
    runs.base.push(await bare());
    runs.ours.push(await ours());
  }
  const pick = (list: typeof runs.ours) => ({
    rows: list[0]!.rows,
    mb: list[0]!.mb,
    rowsPerSecond: median(list.map((r) => r.rowsPerSecond)),
    peakGrowthMb: Math.max(...list.map((r) => r.peakGrowthMb)),
    serverCpuMs: median(list.map((r) => r.serverCpuMs)),
    status: list[0]!.status,
  });
  const rate = (list: typeof runs.ours) => list.map((r) => r.rowsPerSecond);
  const ratio = medianRatio(rate(runs.ours), rate(runs.base));
  return { ours: pick(runs.ours), base: pick(runs.base), ratio };
}

async function loginStorm(api: string, users: Array<{ token: string; org: number }>) {
  log('login storm: logins at full tilt, and GET /api/user beside them');
  const logins = everyLogin();
  const cheap = users.map((u) => ({ path: '/api/user', token: u.token }));
  const [storm, beside] = await load([
    { url: api, method: 'POST', connections: 20, seconds: SECONDS, requests: logins },
    { url: api, method: 'GET', connections: 10, seconds: SECONDS, requests: cheap },
  ]);
  return { storm: storm!, beside: beside! };
}

/** A login of every demo user, each from an address of its own. */
function everyLogin(): LoadRequest[] {
  const orgs = demoOrganizations({ ...DATA, largeOrgPatients: 0 });
  return orgs.flatMap((org, index) =>
    Array.from({ length: DATA.usersPerOrg }, (_, u) => ({
      path: '/api/login',
      body: { email: demoEmail(org.key, u), password: DEMO_PASSWORD },
      address: `10.${index}.0.${u + 1}`,
    })),
  );
}

/**
 * One account floods a route that hashes (the wrong current password on
 * `PUT /api/user/profile/email`, 20 connections from one address) while the other users log in
 * (10 connections, an address each): their login p99 with the flood over their p99 without it.
 */
async function hashFlood(api: string, users: Array<{ token: string; org: number }>) {
  log('hash flood: other users logging in, without and with one account flooding the hash queue');
  // Every user but the flooder.
  const logins: LoadJob = {
    url: api,
    method: 'POST',
    connections: 10,
    seconds: SECONDS,
    requests: everyLogin().slice(1),
  };
  const flood: LoadJob = {
    url: api,
    method: 'PUT',
    connections: Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 20),
    seconds: SECONDS,
    requests: [
      {
        path: '/api/user/profile/email',
        token: users[0]!.token,
        address: '10.250.0.1',
        body: { email: 'flood@example.com', current_password: 'not the password' },
      },
    ],
  };
  const alone: LoadResult[] = [];
  const flooded: LoadResult[] = [];
  const floods: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    alone.push((await load([logins]))[0]!);
    const [others, flooder] = await load([logins, flood]);
    flooded.push(others!);
    floods.push(flooder!);
  }
  return { alone, flooded, floods };
}

/** SIGTERM while 50 clients are busy: every request answered or refused cleanly, a clean exit. */
async function stopUnderLoad(
  api: string,
  users: Array<{ token: string }>,
  server: ChildProcess & { output: string[] },
) {
  log('stop under load: SIGTERM during 50 busy connections');
  const running = load(
    [
      job(
        api,
        'GET',
        users.map((u) => ({ path: '/api/user', token: u.token })),
      ),
    ].map((j) => ({ ...j, seconds: 4 })),
  );
  await sleep(1500);
  const started = performance.now();
  server.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => server.on('exit', (c) => r(c)));
  const exitMs = performance.now() - started;
  const [result] = await running;
  const output = server.output.join('');
  return { code, exitMs, result: result!, poolError: /Cannot use a pool after calling end/.test(output), output };
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Prints the summary; the number of targets missed. */
function report(
  results: Map<string, { ours: Sample[]; base: Sample[]; target?: number }>,
  sync?: Awaited<ReturnType<typeof measureSync>>,
  exportRun?: Awaited<ReturnType<typeof measureExport>>,
  storm?: Awaited<ReturnType<typeof loginStorm>>,
  flood?: Awaited<ReturnType<typeof hashFlood>>,
  stop?: Awaited<ReturnType<typeof stopUnderLoad>>,
  uploads?: Awaited<ReturnType<typeof measureUploads>>,
  pdfs?: Awaited<ReturnType<typeof measurePdfs>>,
  live?: Awaited<ReturnType<typeof measureLive>>,
  pooler?: Map<string, { direct: PoolerSample[]; pooled: PoolerSample[] }>,
  startRun?: Awaited<ReturnType<typeof measureStart>>,
) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `Machine: ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
      `${DATA.orgs} organizations × ${DATA.usersPerOrg} users, ${DATA.patients} patients (+${DATA.largeOrgPatients} in the export organization); ` +
      `${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, medians.`,
  ];
  if (results.size > 0)
    lines.push(
      '',
      '| endpoint | side | req/s | p50 ms | p99 ms | errors | statements/req | CPU ms/req | RSS MB | ÷ baseline | target |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
  let missed = 0;
  /** `≥ target: PASS` (or ≤ for `atMost`), counting a miss. */
  const verdict = (value: number, target: number, atMost = false) => {
    const passed = atMost ? value <= target : value >= target;
    if (!passed) missed++;
    return `(${atMost ? '≤' : '≥'} ${target}: ${passed ? 'PASS' : 'FAIL'})`;
  };
  for (const [name, { ours, base, target }] of results) {
    const row = (side: string, samples: Sample[], ratio: string, judged: string) =>
      `| ${name} | ${side} | ${f(median(samples.map((s) => s.rps)))} | ${f(median(samples.map((s) => s.p50)), 1)} | ` +
      `${f(median(samples.map((s) => s.p99)), 1)} | ${samples.reduce((n, s) => n + s.errors + s.non2xx, 0)} | ` +
      `${f(median(samples.map((s) => s.statements)), 2)} | ${f(median(samples.map((s) => s.cpu)), 2)} | ` +
      `${f(median(samples.map((s) => s.rss)))} | ${ratio} | ${judged} |`;
    const ratio = median(ours.map((s) => s.rps)) / median(base.map((s) => s.rps));
    const errors = ours.reduce((n, s) => n + s.errors + s.non2xx, 0);
    const passed = target === undefined || (ratio >= target && errors === 0);
    if (!passed) missed++;
    const judged = target === undefined ? '' : `≥ ${f(target, 1)}: ${passed ? 'PASS' : 'FAIL'}`;
    lines.push(row('baseline', base, '1.00', ''), row('API', ours, `**${f(ratio, 2)}**`, judged));
  }
  if (results.size > 0) {
    const peak = Math.max(...[...results.values()].flatMap(({ ours }) => ours.map((s) => s.rss)));
    lines.push(
      '',
      `The API's resident memory under this load, its largest sample: **${f(peak)} MB** ${verdict(peak, LOADED_RSS_MB, true)}.`,
    );
  }
  const [read, list] = [results.get(READ_SCENARIO), results.get(LIST_SCENARIO)];
  if (read && list) {
    const ratio = median(list.ours.map((s) => s.rps)) / median(read.ours.map((s) => s.rps));
    lines.push('', `The API's list ÷ its single read: **${f(ratio, 2)}** ${verdict(ratio, LIST_TO_READ)}.`);
  }
  if (pooler) {
    lines.push(
      '',
      '| behind PgBouncer 1.18, transaction mode | side | req/s | p50 ms | p99 ms | errors | server CPU ms/req | PgBouncer CPU ms/req | ÷ direct |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const [name, { direct, pooled }] of pooler) {
      const row = (side: string, samples: PoolerSample[], ratio: string) =>
        `| ${name} | ${side} | ${f(median(samples.map((s) => s.rps)))} | ${f(median(samples.map((s) => s.p50)), 1)} | ` +
        `${f(median(samples.map((s) => s.p99)), 1)} | ${samples.reduce((n, s) => n + s.errors + s.non2xx, 0)} | ` +
        `${f(median(samples.map((s) => s.cpu)), 2)} | ${f(median(samples.map((s) => s.poolerCpu)), 2)} | ${ratio} |`;
      const ratio = median(pooled.map((s) => s.rps)) / median(direct.map((s) => s.rps));
      lines.push(row('direct', direct, '1.00'), row('DATABASE_POOLER=transaction', pooled, `**${f(ratio, 2)}**`));
    }
  }
  if (sync)
    lines.push(
      '',
      `Sync push, per item: 100 single \`POST /api/patients\` ${f(sync.singleMs, 2)} ms; 100-item \`POST /api/sync/batch\` (ten in a row) ` +
        `${f(sync.pushMs, 3)} ms (medians of ${SHORT_ROUNDS} rounds); the rounds' median ratio **${f(sync.speedup, 1)}× faster** ${verdict(sync.speedup, PUSH_SPEEDUP)}. ` +
        `Draining ${sync.drain.changes} changes in ${sync.drain.pages} pages of 500: **${f(sync.drain.ms)} ms**.`,
    );
  if (exportRun)
    lines.push(
      '',
      `| 100,000-row CSV export (medians of ${SHORT_ROUNDS} rounds after 2 not counted) | rows/s | MB | peak RSS growth MB | server CPU ms | ÷ COPY (the rounds' median ratio) |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      `| PostgreSQL \`COPY ... TO STDOUT\` (baseline) | ${f(exportRun.base.rowsPerSecond)} | ${f(exportRun.base.mb, 1)} | ${f(exportRun.base.peakGrowthMb, 1)} | ${f(exportRun.base.serverCpuMs)} | 1.00 |`,
      `| \`GET /api/patients/export?format=csv\` (${exportRun.ours.rows} rows, status ${exportRun.ours.status}) | ${f(exportRun.ours.rowsPerSecond)} | ${f(exportRun.ours.mb, 1)} | ${f(exportRun.ours.peakGrowthMb, 1)} | ${f(exportRun.ours.serverCpuMs)} | **${f(exportRun.ratio, 2)}** ${verdict(exportRun.ratio, EXPORT_TO_COPY)} |`,
    );
  if (startRun)
    lines.push(
      '',
      `Start of the compiled server on an existing data directory to its first 200 on \`/health\`: ` +
        `${startRun.seconds.map((t) => `${f(t, 2)} s`).join(', ')}; median **${f(median(startRun.seconds), 2)} s** ` +
        `${verdict(median(startRun.seconds), START_SECONDS, true)}; idle RSS 5 s after: ${startRun.idleRssMb.map((m) => f(m)).join(', ')} MB, ` +
        `median **${f(median(startRun.idleRssMb))} MB** ${verdict(median(startRun.idleRssMb), IDLE_RSS_MB, true)}.`,
    );
  if (uploads) {
    const row = (name: string, side: { api: { mbPerSecond: number }; bare: { mbPerSecond: number } }) =>
      `| ${name} | ${f(side.bare.mbPerSecond)} | ${f(side.api.mbPerSecond)} | **${f(side.api.mbPerSecond / side.bare.mbPerSecond, 2)}** |`;
    lines.push(
      '',
      `| 5 MB upload then download, ${uploads.local.api.files} files, 4 at once | bare pipeline MB/s | API MB/s | ÷ bare |`,
      '| --- | ---: | ---: | ---: |',
      row('local directory', uploads.local),
      row('S3 (s3rver in the bench process)', uploads.s3),
      '',
      `20 concurrent 10 MB uploads: ${uploads.concurrent.created} created; the server's RSS (an upper bound of its heap) grew ` +
        `**${f(uploads.concurrent.growthMb, 1)} MB** at its peak, from ${f(uploads.concurrent.beforeMb)} MB.`,
    );
  }
  if (pdfs)
    lines.push(
      '',
      '| one-page PDF (a draft contract), 10 at once | PDFs/s | median ms per PDF | p99 ms | ÷ bare |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| bare: renderContrat in the bench process, no HTTP, no database | ${f(pdfs.bare.pdfsPerSecond)} | ${f(pdfs.bare.medianMs, 1)} (alone) | – | 1.00 |`,
      `| \`GET /api/v1/contrats/:id/pdf\` (${pdfs.api.failed} failed) | ${f(pdfs.api.pdfsPerSecond)} | ${f(pdfs.api.p50, 1)} (p50 at 10) | ${f(pdfs.api.p99, 1)} | **${f(pdfs.api.pdfsPerSecond / pdfs.bare.pdfsPerSecond, 2)}** |`,
      '',
      `${1000} PDFs through the API, 10 at once (${pdfs.memory.failed} failed): the server's RSS (an upper bound of its heap) ` +
        `grew **${f(pdfs.memory.growthMb, 1)} MB** (peak +${f(pdfs.memory.peakGrowthMb, 1)} MB), from ${f(pdfs.memory.beforeMb)} MB.`,
    );
  if (live) lines.push(...liveReport(live, f));
  if (storm)
    lines.push(
      '',
      `Login storm (argon2id at OWASP cost, 20 connections logging in for ${SECONDS} s): ${f(storm.storm.rps)} logins/s, ` +
        `p99 ${f(storm.storm.p99)} ms, ${storm.storm.non2xx} refused (503/other). Beside it, \`GET /api/user\` on 10 connections: ` +
        `${f(storm.beside.rps)} req/s, p50 ${f(storm.beside.p50, 1)} ms, **p99 ${f(storm.beside.p99, 1)} ms**.`,
    );
  if (flood) {
    const p99 = (list: LoadResult[]) => median(list.map((r) => r.p99));
    const count = (list: LoadResult[], code: string) => list.reduce((n, r) => n + (r.statuses[code] ?? 0), 0);
    lines.push(
      '',
      `Hash flood (one account, 20 connections, wrong current password on \`PUT /api/user/profile/email\`; ${ROUNDS} rounds of ${SECONDS} s): ` +
        `other users' logins (10 connections) p99 ${f(p99(flood.alone))} ms without the flood, ` +
        `${f(p99(flood.flooded))} ms with it: **${f(p99(flood.flooded) / p99(flood.alone), 2)}×** ` +
        `(${f(median(flood.alone.map((r) => r.rps)))} and ${f(median(flood.flooded.map((r) => r.rps)))} logins/s, ` +
        `${count(flood.flooded, '200')} of ${flood.flooded.reduce((n, r) => n + r.requests, 0)} answered 200). ` +
        `The flood: ${count(flood.floods, '422')} hashed (wrong password), ${count(flood.floods, '429')} refused 429, ` +
        `${count(flood.floods, '503')} refused 503.`,
    );
  }
  if (stop)
    lines.push(
      '',
      `SIGTERM under load (50 connections): exit code ${stop.code} after ${f(stop.exitMs)} ms; ${stop.result.requests} requests, ` +
        `${stop.result.errors} connection errors, ${stop.result.non2xx} non-2xx (503 while closing); ` +
        `"Cannot use a pool after calling end": ${stop.poolError ? 'SEEN' : 'never'}.`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  return missed;
}

main().catch((err: unknown) => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  console.error(err);
  process.exit(1);
});
