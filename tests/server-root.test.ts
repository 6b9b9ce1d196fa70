import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT_RUNTIME_DIR } from '../db/embedded-root.js';

// As root, PostgreSQL runs as the `postgres` system user, which cannot enter a private home such
// as /root (mode 700). A project cloned there must still start, its CLI must still work, and no
// password may be left readable anywhere. CI runs as root, so this runs there.
const isRoot = process.getuid?.() === 0;
const project = path.resolve(import.meta.dirname, '..');
// The binaries are copied there once and reused; a copy this test made is its own to remove.
const copiesBefore = existsSync(ROOT_RUNTIME_DIR) ? readdirSync(ROOT_RUNTIME_DIR) : [];
let home: string | undefined;
let cluster: string | undefined;

afterAll(async () => {
  if (cluster) await rm(path.dirname(cluster), { recursive: true, force: true });
  if (home) await rm(home, { recursive: true, force: true });
  if (!existsSync(ROOT_RUNTIME_DIR)) return;
  for (const entry of readdirSync(ROOT_RUNTIME_DIR)) {
    if (!copiesBefore.includes(entry)) await rm(path.join(ROOT_RUNTIME_DIR, entry), { recursive: true, force: true });
  }
});

/** The project as a clone under a mode-700 home would have it (node_modules hard-linked: fast). */
async function cloneIntoPrivateHome(): Promise<string> {
  home = await mkdtemp(path.join(tmpdir(), 'api-root-home-')); // mode 700, like /root
  expect(statSync(home).mode & 0o777).toBe(0o700);
  const app = path.join(home, 'app');
  await mkdir(app);
  execFileSync('cp', ['-al', path.join(project, 'node_modules'), app]);
  for (const entry of ['src', 'db', 'domain', 'plugins', 'routes', 'adapters', 'package.json', 'tsconfig.json']) {
    await cp(path.join(project, entry), path.join(app, entry), { recursive: true });
  }
  return app;
}

function spawnIn(cwd: string, script: string, args: string[] = []): ChildProcess {
  const { DATABASE_URL: _external, DATA_DIR: _dir, ...env } = process.env;
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd,
    env: { ...env, PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function passwordFilesInTmp(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('pg-password-') || f.startsWith('.pwfile-'));
}

describe.runIf(isRoot)('as root, with the project in a private home directory', () => {
  it('starts, serves, runs the CLI and stops, leaving no password file behind', async () => {
    const before = passwordFilesInTmp();
    const app = await cloneIntoPrivateHome();
    const server = spawnIn(app, 'src/server.ts');
    const logs: Array<Record<string, unknown>> = [];
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
      createInterface({ input: server.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        const match = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(String(entry.msg));
        if (match) resolve(match[1]!);
      });
    });

    const relocated = logs.find((l) => String(l.msg).startsWith('the postgres system user cannot enter'));
    expect(relocated, JSON.stringify(logs)).toBeDefined();
    cluster = (await readFile(path.join(app, '.data', 'postgres.location'), 'utf8')).trim();
    expect(existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
    expect(statSync(path.join(app, '.data', 'postgres.password')).mode & 0o777).toBe(0o600);

    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const password = 'a long passphrase';
    const owner = await fetch(`${url}/api/register-owner`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Dr Root',
        email: 'root@clinic.test',
        password,
        password_confirmation: password,
        organization_name: 'Cabinet',
      }),
    });
    expect(owner.status).toBe(201);

    const status = spawnIn(app, 'src/cli.ts', ['migrate', 'status']);
    let statusOut = '';
    status.stdout!.on('data', (d) => (statusOut += d));
    expect(await new Promise((r) => status.on('exit', r))).toBe(0);
    expect(statusOut).toMatch(/0001_api_schemas/);

    server.kill('SIGTERM');
    expect(await new Promise((r) => server.on('exit', r))).toBe(0);
    expect(existsSync(path.join(cluster, 'postmaster.pid'))).toBe(false);
    expect(passwordFilesInTmp()).toEqual(before);
  });
});
