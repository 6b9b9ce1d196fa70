import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { testDatabaseUrl } from './helpers/database.js';
import { PASSWORD, registerUser, uniqueEmail } from './helpers/users.js';

let app: App;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app.close());

/** `npm run cli -- ...args` against this file's database. */
async function cli(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout: stdout.trim(), stderr: stderr.trim() };
}

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
    expect(missing.stderr).toContain("required option '--password <password>' not specified");
  });
});
