import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { appRolePassword, ensureAppRole } from '../db/app-role.js';
import { connect } from '../db/connection.js';
import { APP_SCHEMAS, lossesOfRevert, migrate } from '../db/migrate.js';
import { migrations } from '../db/migrations/index.js';
import {
  applied,
  cliWith,
  query,
  runCli,
  runCliAtTerminal,
  SERVER_CONNECTED,
  serverOn,
  terminalAvailable,
} from './helpers/cli.js';
import { clonedDatabaseUrl, emptyDatabaseUrl } from './helpers/database.js';
import { TEST_JWT_SECRET } from './helpers/urls.js';
import { uniqueEmail } from './helpers/users.js';

describe('npm run cli -- migrate down', () => {
  it('refuses to revert a migration that would drop data, says what, and reverts with --force', async () => {
    const databaseUrl = await emptyDatabaseUrl();
    expect((await cliWith({ databaseUrl }, 'migrate', 'up')).code).toBe(0);
    const owner = new pg.Client({ connectionString: databaseUrl });
    await owner.connect();
    try {
      await owner.query(
        `insert into medreport.users (uuid, name, email) values (gen_random_uuid(), 'Owner', 'o@x.fr')`,
      );
      await owner.query(
        `insert into medreport.organizations (uuid, name, code, owner_user_id)
         select gen_random_uuid(), 'Clinique', 'ORG-TEST', id from medreport.users`,
      );
      await owner.query(
        `insert into medreport.patients (organization_id, uuid, name)
         select id, gen_random_uuid(), 'Patient ' || g from medreport.organizations, generate_series(1, 3) g`,
      );
      // Migrations that drop nothing holding data revert as before, until the one that would: the
      // same checks the command runs, in this process (one CLI process per migration is slow).
      const { db } = connect(databaseUrl, { max: 1 });
      try {
        for (let plan = await lossesOfRevert(db); plan.losses.length === 0; plan = await lossesOfRevert(db)) {
          expect(plan.name).toMatch(/^\d{4}_/);
          await migrate(db, 'down');
        }
      } finally {
        await db.destroy();
      }
      // The command itself refuses that one.
      const refused = await cliWith({ databaseUrl }, 'migrate', 'down');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^Error: reverting 0004_medreport_records would delete data:/);
      expect(refused!.stderr).toContain('medreport.patients: 3 row(s)');
      expect(refused!.stderr).toContain('Nothing was changed. Run with --force');
      const { rows } = await owner.query('select count(*)::int as n from medreport.patients');
      expect(rows[0].n).toBe(3);

      const forced = await cliWith({ databaseUrl }, 'migrate', 'down', '--force');
      expect(forced).toMatchObject({ code: 0, stdout: 'reverted 0004_medreport_records' });
      const status = await cliWith({ databaseUrl }, 'migrate', 'status');
      expect(status.stdout).toMatch(/pending\s+0004_medreport_records/);
    } finally {
      await owner.end();
    }
  });
});

describe('npm run cli -- migrate down, against a running server and at a terminal', () => {
  const LAST = Object.keys(migrations).at(-1)!;

  it('refuses while a server is connected, naming its connections, and reverts once it has stopped', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    const server = await serverOn(databaseUrl);
    try {
      const refused = await cliWith({ databaseUrl }, 'migrate', 'down');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^Error: migrate down refused: /);
      expect(refused.stderr).toMatch(SERVER_CONNECTED);
      expect(refused.stderr.split('\n')).toHaveLength(1);
      expect((await applied(databaseUrl)).at(-1)).toBe(LAST);
    } finally {
      await server.close();
    }
    const reverted = await cliWith({ databaseUrl }, 'migrate', 'down');
    expect(reverted).toMatchObject({ code: 0, stdout: `reverted ${LAST}` });
    expect(await applied(databaseUrl)).not.toContain(LAST);
  });

  it.skipIf(!terminalAvailable)(
    'asks at a terminal naming the migration: anything but y or yes reverts nothing; yes and --yes revert',
    async () => {
      const databaseUrl = await clonedDatabaseUrl();
      const env = { DATABASE_URL: databaseUrl };
      const prompt = `Revert migration ${LAST}? [y/N] `;
      for (const answer of ['', 'n', 'yess']) {
        const declined = await runCliAtTerminal(['migrate', 'down'], { env, prompt, answer });
        expect(declined.asked, declined.output).toBe(true);
        expect(declined.code).toBe(1);
        expect(declined.output.split('\n').at(-1)).toBe(`Error: ${LAST} was not reverted (not confirmed)`);
        expect((await applied(databaseUrl)).at(-1)).toBe(LAST);
      }
      const confirmed = await runCliAtTerminal(['migrate', 'down'], { env, prompt, answer: 'YES' });
      expect(confirmed).toMatchObject({ asked: true, code: 0 });
      expect(confirmed.output.split('\n').at(-1)).toBe(`reverted ${LAST}`);
      expect(await applied(databaseUrl)).not.toContain(LAST);

      // --yes: no question (nothing is typed, so a question would wait until killed).
      const next = (await applied(databaseUrl)).at(-1)!;
      const unasked = await runCliAtTerminal(['migrate', 'down', '--yes'], { env });
      expect(unasked).toMatchObject({ code: 0, output: `reverted ${next}` });
      expect(await applied(databaseUrl)).not.toContain(next);
    },
    120_000,
  );
});

describe('npm run cli -- db:reset', () => {
  /** Rows in each API's schema and the ops schema, and an object the migrations never made. */
  async function fill(databaseUrl: string) {
    await query(
      databaseUrl,
      `insert into medreport.users (uuid, name, email) values (gen_random_uuid(), 'Owner', 'o@x.fr');
       insert into ptitspas.utilisateurs (id, email, prenom, nom, role, statut)
         values (gen_random_uuid(), 'p@x.fr', 'P', 'Q', 'parent', 'actif');
       insert into ops.jobs (name) values ('stray-job');
       create table ptitspas.stray (id int);`,
    );
  }
  async function contents(databaseUrl: string) {
    const [row] = await query<Record<string, number>>(
      databaseUrl,
      `select (select count(*)::int from medreport.users) as users,
              (select count(*)::int from ptitspas.utilisateurs) as utilisateurs,
              (select count(*)::int from ops.jobs where name = 'stray-job') as jobs,
              (select count(*)::int from pg_tables where schemaname = 'ptitspas' and tablename = 'stray') as stray`,
    );
    return row;
  }
  const FILLED = { users: 1, utilisateurs: 1, jobs: 1, stray: 1 };
  const EMPTY = { users: 0, utilisateurs: 0, jobs: 0, stray: 0 };
  const every = Object.keys(migrations).sort();

  it('leaves an empty database with every migration applied, which the server starts on', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    await fill(databaseUrl);
    expect(await contents(databaseUrl)).toEqual(FILLED);

    const reset = await cliWith({ databaseUrl }, 'db:reset');
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout.split('\n')).toEqual([
      `dropped the schemas medreport, ptitspas, ops and the migration history of PostgreSQL at ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}`,
      `applied ${every.length} migrations, up to ${every.at(-1)}`,
    ]);
    expect(await contents(databaseUrl)).toEqual(EMPTY);
    expect(await applied(databaseUrl)).toEqual(every);
    // Nothing of the app outside the schemas the reset drops: a migration creating another
    // schema must add it to APP_SCHEMAS.
    const schemas = await query<{ nspname: string }>(
      databaseUrl,
      `select nspname from pg_namespace
        where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public') order by 1`,
    );
    expect(schemas.map((s) => s.nspname)).toEqual([...APP_SCHEMAS].sort());

    // What `npm start` does first (migrate, then grant the app role), then the server works.
    const owner = connect(databaseUrl, { max: 1 });
    await ensureAppRole(owner.db, appRolePassword(TEST_JWT_SECRET)).finally(() => owner.db.destroy());
    const server = await serverOn(databaseUrl);
    try {
      const registered = await server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: uniqueEmail('after-reset'), prenom: 'Jean', nom: 'Dupont', role: 'parent' },
      });
      expect(registered.statusCode, registered.body).toBe(201);
    } finally {
      await server.close();
    }
  });

  it.skipIf(!terminalAvailable)('asks at a terminal first: only a yes resets', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    await fill(databaseUrl);
    const env = { DATABASE_URL: databaseUrl };
    const { host, pathname } = new URL(databaseUrl);
    const prompt = `Reset PostgreSQL at ${host}${pathname}, deleting every row of both APIs? [y/N] `;
    const declined = await runCliAtTerminal(['db:reset'], { env, prompt, answer: 'no' });
    expect(declined).toMatchObject({ asked: true, code: 1 });
    expect(declined.output.split('\n').at(-1)).toBe('Error: the database was not reset (not confirmed)');
    expect(await contents(databaseUrl)).toEqual(FILLED);
    const confirmed = await runCliAtTerminal(['db:reset'], { env, prompt, answer: 'y' });
    expect(confirmed).toMatchObject({ asked: true, code: 0 });
    expect(await contents(databaseUrl)).toEqual(EMPTY);
  });

  it('refuses in production without --force, in one line, and resets with it', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    await fill(databaseUrl);
    const production = {
      DATABASE_URL: databaseUrl,
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(48).toString('base64'),
      PTITSPAS_NIR_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    const refused = await runCli(['db:reset'], { env: production });
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Error: db:reset refused: NODE_ENV=production; nothing was changed (--force resets anyway)',
    });
    expect(await contents(databaseUrl)).toEqual(FILLED);

    const forced = await runCli(['db:reset', '--force'], { env: production });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await contents(databaseUrl)).toEqual(EMPTY);
    expect(await applied(databaseUrl)).toEqual(every);
  });

  it('refuses while a server is connected, naming its connections, even with --force', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    await fill(databaseUrl);
    const server = await serverOn(databaseUrl);
    try {
      const refused = await cliWith({ databaseUrl }, 'db:reset', '--force');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^Error: db:reset refused: /);
      expect(refused.stderr).toMatch(SERVER_CONNECTED);
      expect(refused.stderr.split('\n')).toHaveLength(1);
      expect(await contents(databaseUrl)).toEqual(FILLED);
    } finally {
      await server.close();
    }
  });
});
