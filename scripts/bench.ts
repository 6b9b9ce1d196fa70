/**
 * `npm run bench`: throughput of the hot read paths against a raw-driver baseline, measured in the
 * same run on the same machine, so the ratios mean something wherever it runs. Starts its own
 * embedded PostgreSQL (or uses DATABASE_URL, which it migrates), seeds one organization with
 * patients, then points autocannon (in a worker thread) at each endpoint in turn.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { appRolePassword, appRoleUrl, ensureAppRole } from '../db/app-role.js';
import { connect } from '../db/connection.js';
import { ensureDatabase, startEmbeddedCluster } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench-secret-that-is-long-enough-for-hs256!';

async function database(): Promise<{ ownerUrl: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { ownerUrl: process.env.DATABASE_URL, stop: async () => {} };
  const dir = await mkdtemp(path.join(tmpdir(), 'api-bench-'));
  await chmod(dir, 0o755);
  const cluster = await startEmbeddedCluster({ dir, whenRunning: 'exclusive' });
  await ensureDatabase(cluster.url('postgres'), 'bench');
  return {
    ownerUrl: cluster.url('bench'),
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function run(title: string, url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2, workers: 1 }); // warm-up
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION, workers: 1 });
  const non2xx = result.non2xx + result.errors;
  return { title, rps: result.requests.average, p99: result.latency.p99, non2xx };
}

async function main() {
  const { ownerUrl, stop } = await database();
  const owner = connect(ownerUrl, { max: 2 });
  await migrate(owner.db, 'latest');
  await ensureAppRole(owner.db, appRolePassword(SECRET));
  const appUrl = appRoleUrl(ownerUrl, appRolePassword(SECRET));

  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      RATE_LIMITS: 'off',
      DATA_DIR: path.join(tmpdir(), 'api-bench-data'),
    }),
    databaseUrl: appUrl,
    jwtSecret: SECRET,
    databasePoolMax: Number(process.env.BENCH_POOL ?? 20),
  };
  const app = await buildApp(config);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });

  // One organization, a doctor, 1,000 patients; plus a second organization's 1,000 rows.
  const register = async (name: string) =>
    (
      await app.inject({
        method: 'POST',
        url: '/api/register-owner',
        payload: {
          name,
          email: `${name}@bench.test`,
          password: 'bench password',
          password_confirmation: 'bench password',
          organization_name: name,
        },
      })
    ).json() as { token: string; organization: { id: number } };
  const a = await register(`a${Date.now()}`);
  const b = await register(`b${Date.now()}`);
  for (const org of [a, b]) {
    await sql`insert into medreport.patients (organization_id, uuid, name, phone)
      select ${org.organization.id}, gen_random_uuid(), 'Patient ' || i, '+2376' || i
      from generate_series(1, 1000) i`.execute(owner.db);
  }
  const { rows } = await sql<{ uuid: string }>`
    select uuid from medreport.patients where organization_id = ${a.organization.id} limit 1`.execute(owner.db);
  const patient = rows[0]!.uuid;
  const auth = { authorization: `Bearer ${a.token}` };

  // The baseline: bare Fastify, the same pg driver, one prepared query, no auth, no tenancy.
  const pool = new pg.Pool({ connectionString: ownerUrl, max: 20 });
  const bare = Fastify();
  bare.get('/patients/:uuid', async (request) => {
    const { rows } = await pool.query({
      name: 'bench_patient',
      text: 'select * from medreport.patients where organization_id = $1 and uuid = $2',
      values: [a.organization.id, (request.params as { uuid: string }).uuid],
    });
    return rows[0];
  });
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

  const results = [];
  results.push(await run('baseline: bare Fastify + pg, one prepared query', `${bareUrl}/patients/${patient}`));
  results.push(await run('GET /health (no database)', `${base}/health`));
  results.push(await run('GET /api/user (JWT + session check)', `${base}/api/user`, auth));
  results.push(await run('GET /api/patients/:uuid (tenant read, RLS on)', `${base}/api/patients/${patient}`, auth));
  await sql`alter table medreport.patients disable row level security`.execute(owner.db);
  results.push(await run('GET /api/patients/:uuid (tenant read, RLS off)', `${base}/api/patients/${patient}`, auth));
  await sql`alter table medreport.patients enable row level security`.execute(owner.db);
  results.push(await run('GET /api/patients?limit=25 (tenant list + count)', `${base}/api/patients?limit=25`, auth));

  const baseline = results[0]!.rps;
  console.log(`\n${CONNECTIONS} connections, ${DURATION} s each, node ${process.version}\n`);
  console.log('| scenario | req/s | vs baseline | p99 ms | non-2xx |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.title} | ${Math.round(r.rps)} | ${((r.rps / baseline) * 100).toFixed(0)}% | ${r.p99} | ${r.non2xx} |`,
    );
  }
  const on = results[3]!.rps;
  const off = results[4]!.rps;
  console.log(`\nRLS overhead on the tenant read: ${(((off - on) / off) * 100).toFixed(1)}%`);

  await bare.close();
  await pool.end();
  await app.close();
  await owner.db.destroy();
  await stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
