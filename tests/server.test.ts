import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The real process: embedded PostgreSQL under DATA_DIR, migrations, signals. It runs the sources
// compiled once for the run (tests/setup/process-build.ts), one process, so a kill -9 hits the
// server itself; one CLI run goes through the tsx loader as `npm run cli` does, and
// tests/server-signals.test.ts stops `npm start` itself. The tests share one data directory, in
// order: the first CLI run finds it empty and creates the cluster the later tests start on (a
// cluster's creation and migrations cost seconds of CPU; docs/testing.md).
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'api-server-'));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  const postmaster = readPostmaster();
  if (postmaster) process.kill(postmaster.pid, 'SIGINT');
  await rm(dataDir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return {
    ...rest,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'development',
    ...extra,
  };
}

/** `script` (`src/….ts`) compiled, or through the tsx loader when `script` is `['tsx', script]`. */
function run(
  script: string | ['tsx', string],
  args: string[] = [],
  extra: Record<string, string> = {},
  cwd?: string,
): ChildProcess {
  const command =
    typeof script === 'string'
      ? [path.join(inject('processBuild'), script.replace(/\.ts$/, '.js'))]
      : ['--import', ...script];
  const child = spawn(process.execPath, [...command, ...args], {
    env: env(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  children.push(child);
  return child;
}

/** Starts the server and resolves with its base URL once it listens. */
function startServer(
  extra: Record<string, string> = {},
  cwd?: string,
): Promise<{ child: ChildProcess; url: string; logs: Record<string, unknown>[] }> {
  const child = run('src/server.ts', [], extra, cwd);
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg));
      if (match) resolve({ child, url: match[1]!, logs });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.on('exit', (code) => r(code)));
}

function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return exited(child).then((code) => ({ code, stdout, stderr }));
}

function readPostmaster(): { pid: number; port: number } | undefined {
  const file = path.join(dataDir ?? '', 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

async function query(sql: string): Promise<pg.QueryResult> {
  const password = readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const client = new pg.Client({
    host: '127.0.0.1',
    port: readPostmaster()!.port,
    user: 'postgres',
    password,
    database: 'app',
  });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the server process', () => {
  it('stops at start with one clear line on a bad variable', async () => {
    const result = await output(run('src/server.ts', [], { PORT: 'abc' }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Configuration error: PORT must be an integer between 0 and 65535 (got "abc")');
  });

  it('runs the CLI on a fresh data directory: migrations first, then the command; the admins then log in and reach /api/admin and /api/v1/users', async () => {
    const created = await output(
      run('src/cli.ts', [
        'admin:create',
        '--email',
        'first@admin.test',
        '--name',
        'First Admin',
        '--password',
        'admin passphrase',
      ]),
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^applied 0001_api_schemas$/m);
    expect(created.stdout.trim().split('\n').at(-1)).toBe('created administrator first@admin.test');
    const ptitspasAdmin = [
      'ptitspas:create-admin',
      ...['--email', 'admin@ptits-pas.test', '--password', '4dm1n1strateur', '--prenom', 'Admin', '--nom', 'Système'],
    ];
    const superAdmin = await output(run('src/cli.ts', ptitspasAdmin));
    expect(superAdmin.code, superAdmin.stderr).toBe(0);
    expect(superAdmin.stdout.trim()).toBe('created PtitsPas super admin admin@ptits-pas.test');
    const again = await output(run('src/cli.ts', ptitspasAdmin));
    expect(again.stdout.trim()).toBe('admin@ptits-pas.test is already a PtitsPas super admin (nothing changed)');

    const server = await startServer();
    const login = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@admin.test', password: 'admin passphrase' }),
    });
    expect(login.status).toBe(200);
    const { token, user } = (await login.json()) as { token: string; user: { role: string; roles: string[] } };
    expect(user).toMatchObject({ role: 'admin', roles: ['admin'] });
    // ... and reaches the admin API, where it is the one account.
    const users = await fetch(`${server.url}/api/admin/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(users.status).toBe(200);
    expect(await users.json()).toMatchObject({
      data: [{ email: 'first@admin.test', roles: ['admin'], status: 'active' }],
      total: 1,
    });

    const ptitspasLogin = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@ptits-pas.test', password: '4dm1n1strateur' }),
    });
    expect(ptitspasLogin.status).toBe(200);
    const { access_token: access } = (await ptitspasLogin.json()) as { access_token: string };
    const accounts = await fetch(`${server.url}/api/v1/users`, { headers: { authorization: `Bearer ${access}` } });
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get('x-total-count')).toBe('1');
    expect(await accounts.json()).toMatchObject([
      { email: 'admin@ptits-pas.test', role: 'super_admin', statut: 'actif' },
    ]);
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
  });

  it('starts on embedded PostgreSQL, survives a kill -9, keeps its data and shuts down gracefully', async () => {
    const first = await startServer();
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);
    await query('create table public.restart_marker (note text); insert into public.restart_marker values ($$kept$$)');

    // The CLI joins the running cluster instead of starting another one.
    const status = await output(run('src/cli.ts', ['migrate', 'status']));
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^\d{4}-\d\d-\d\dT.*0001_api_schemas$/m);

    const orphan = readPostmaster()!;
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(alive(orphan.pid)).toBe(true); // PostgreSQL outlives a killed server...

    const second = await startServer(); // ...and the next start replaces it
    expect(second.logs.some((l) => String(l.msg).includes('left running by a process that died'))).toBe(true);
    expect(alive(orphan.pid)).toBe(false);
    expect(await (await fetch(`${second.url}/ready`)).json()).toEqual({
      status: 'ready',
      database: 'up',
      storage: 'up',
      redis: 'unused',
      load: 'normal',
    });
    expect((await query('select note from public.restart_marker')).rows).toEqual([{ note: 'kept' }]);

    const running = readPostmaster()!;
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    expect(second.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(alive(running.pid)).toBe(false);
  });

  it('runs the CLI with no server running, starting the database only for the command', async () => {
    const result = await output(run(['tsx', 'src/cli.ts'], ['migrate', 'up']));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('already up to date');
    expect(readPostmaster() === undefined || !alive(readPostmaster()!.pid)).toBe(true);
  });
});
