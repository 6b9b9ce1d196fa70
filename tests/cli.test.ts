import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { cli, cliWith } from './helpers/cli.js';
import { PASSWORD, registerUser, uniqueEmail } from './helpers/users.js';

let app: App;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app.close());

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
    // One version everywhere: package.json's, which the OpenAPI document carries too.
    const { version: packageVersion } = JSON.parse(await readFile('package.json', 'utf8'));
    expect(version.stdout.trim()).toBe(packageVersion);
    expect(JSON.parse(await readFile('openapi.json', 'utf8')).info.version).toBe(packageVersion);
  });
});
