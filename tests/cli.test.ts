import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { runCli } from './helpers/cli.js';
import { emptyDatabaseUrl } from './helpers/database.js';
import { PASSWORD, registerUser, uniqueEmail } from './helpers/users.js';

let app: App;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app.close());

/** `npm run cli -- ...args` against this file's database (or `databaseUrl`), `stdin` piped in. */
const cli = (...args: string[]) => runCli(args);
const cliWith = ({ databaseUrl, stdin }: { databaseUrl?: string; stdin?: string }, ...args: string[]) =>
  runCli(args, { env: databaseUrl ? { DATABASE_URL: databaseUrl } : {}, stdin });

describe('npm run cli -- admin:create', () => {
  it('creates an administrator who can log in, and is idempotent', async () => {
    const email = uniqueEmail('admin');
    const created = await cli(
      'admin:create',
      '--email',
      email,
      '--password',
      'admin passphrase',
      '--name',
      'Ada Admin',
    );
    expect(created).toMatchObject({ code: 0, stdout: `created administrator ${email}` });

    const login = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email, password: 'admin passphrase' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().user).toMatchObject({ role: 'admin', name: 'Ada Admin' });

    const again = await cli('admin:create', '--email', email, '--password', 'other passphrase', '--name', 'X');
    expect(again).toMatchObject({ code: 0, stdout: `${email} is already an administrator (nothing changed)` });
  });

  it('promotes an existing account and leaves its password alone', async () => {
    const { email } = await registerUser(app);
    const res = await cli('admin:create', '--email', email.toUpperCase(), '--password', 'ignored pass', '--name', 'X');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('promoted existing account');
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
    expect(login.json().user.role).toBe('admin');
  });

  it('refuses a short password or missing options with a non-zero exit', async () => {
    const short = await cli('admin:create', '--email', uniqueEmail(), '--password', 'short', '--name', 'X');
    expect(short.code).toBe(1);
    expect(short.stderr).toBe('Error: the password must have at least 8 characters');
    const missing = await cli('admin:create', '--email', uniqueEmail());
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--name <name>' not specified");
    const none = await cli('admin:create', '--email', uniqueEmail(), '--name', 'X');
    expect(none).toMatchObject({ code: 1, stderr: 'Error: the password must have at least 8 characters' });
  });

  it('reads the password from stdin, so it stays out of shell history and ps', async () => {
    const email = uniqueEmail('piped');
    const res = await cliWith({ stdin: 'piped passphrase\n' }, 'admin:create', '--email', email, '--name', 'Pipe');
    expect(res).toMatchObject({ code: 0, stdout: `created administrator ${email}` });
    const login = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email, password: 'piped passphrase' },
    });
    expect(login.statusCode).toBe(200);
  });
});

describe('npm run cli -- ptitspas:create-admin', () => {
  const create = (email: string, ...rest: string[]) =>
    cli('ptitspas:create-admin', '--email', email, '--prenom', 'Admin', '--nom', 'Système', ...rest);

  it('creates a super admin who can log in, is idempotent, and never promotes another account', async () => {
    const email = uniqueEmail('super');
    expect(await create(email, '--password', 'super passphrase')).toMatchObject({
      code: 0,
      stdout: `created PtitsPas super admin ${email}`,
    });
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: 'super passphrase' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().user).toMatchObject({ email, role: 'super_admin', prenom: 'Admin', nom: 'Système' });

    expect(await create(email.toUpperCase(), '--password', 'other passphrase')).toMatchObject({
      code: 0,
      stdout: `${email.toUpperCase()} is already a PtitsPas super admin (nothing changed)`,
    });

    const parent = uniqueEmail('parent');
    const registered = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: parent, prenom: 'Jean', nom: 'Dupont', role: 'parent' },
    });
    expect(registered.statusCode).toBe(201);
    const refused = await create(parent, '--password', 'super passphrase');
    expect(refused).toMatchObject({
      code: 1,
      stderr: `Error: ${parent} is already a PtitsPas account with the role parent; nothing changed`,
    });
  });

  it('reads the password from stdin and refuses a short one', async () => {
    const email = uniqueEmail('piped');
    const piped = await cliWith(
      { stdin: 'piped passphrase\n' },
      'ptitspas:create-admin',
      ...['--email', email, '--prenom', 'P', '--nom', 'Q'],
    );
    expect(piped).toMatchObject({ code: 0, stdout: `created PtitsPas super admin ${email}` });
    const short = await create(uniqueEmail(), '--password', 'short');
    expect(short).toMatchObject({ code: 1, stderr: 'Error: the password must have 8 to 128 characters' });
  });
});

describe('npm run cli -- --help and --version', () => {
  it('names the command as it is typed, and knows its version', async () => {
    const help = await cli('--help');
    expect(help.stdout).toMatch(/^Usage: npm run cli -- \[options\] \[command\]/);
    expect(help.stdout).toContain('admin:create');
    const version = await cli('--version');
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

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
      // Migrations that drop nothing holding data revert as before, until the one that would.
      let refused: Awaited<ReturnType<typeof cli>> | undefined;
      for (let i = 0; i < 50 && !refused; i++) {
        const res = await cliWith({ databaseUrl }, 'migrate', 'down');
        if (res.code !== 0) refused = res;
        else expect(res.stdout).toMatch(/^reverted \d{4}_/);
      }
      expect(refused!.stderr).toMatch(/^Error: reverting 0004_medreport_records would delete data:/);
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

describe('npm run cli -- seed:demo', () => {
  const args = [
    'seed:demo',
    '--orgs',
    '2',
    '--users-per-org',
    '3',
    '--patients',
    '25',
    '--large-org',
    '7',
    '--seed',
    '7',
  ];

  async function fingerprint(databaseUrl: string) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`
        select (select count(*)::int from medreport.organizations) as organizations,
               (select count(*)::int from medreport.users) as users,
               (select count(*)::int from medreport.patients) as patients,
               (select md5(string_agg(uuid::text || name, ',' order by uuid)) from medreport.patients) as patient_rows,
               (select count(*)::int from medreport.users where organization_id is null) as orphans`);
      return rows[0];
    } finally {
      await client.end();
    }
  }

  it('creates organizations, users and patients, adds nothing on a rerun, and gives the same rows every time', async () => {
    const first = await emptyDatabaseUrl();
    const created = await cliWith({ databaseUrl: first }, ...args);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.split('\n').at(-1)).toBe(
      '3 organizations, 9 users (owner.N@demo.medreport.test, doctor.N.M@demo.medreport.test, password "demo passphrase"), 32 patients (32 added by this run)',
    );
    const again = await cliWith({ databaseUrl: first }, ...args);
    expect(again.stdout.split('\n').at(-1)).toContain('32 patients (0 added by this run)');

    const second = await emptyDatabaseUrl();
    expect((await cliWith({ databaseUrl: second }, ...args)).code).toBe(0);
    const [a, b] = [await fingerprint(first), await fingerprint(second)];
    expect(a).toEqual({ organizations: 3, users: 9, patients: 32, patient_rows: expect.any(String), orphans: 0 });
    expect(b).toEqual(a);
  });
});
