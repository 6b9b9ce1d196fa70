import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { appRolePassword, appRoleUrl } from '../../db/app-role.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from './app.js';
import { testDatabaseUrl } from './database.js';
import { TEST_JWT_SECRET } from './urls.js';

/**
 * The CLI compiled once for the run (tests/setup/process-build.ts), run from the checkout as
 * `npm run cli` is. tests/server.test.ts runs it through the tsx loader, as `npm run cli` does.
 */
export const CLI = [path.join(inject('processBuild'), 'src', 'cli.js')];

/**
 * `npm run cli -- ...args` as a user runs it (a child process of the compiled sources), against this
 * test file's database unless `env.DATABASE_URL` says otherwise; `stdin` is piped in when given.
 */
export async function runCli(
  args: string[],
  { env = {}, stdin }: { env?: Record<string, string>; stdin?: string } = {},
) {
  const child = spawn(process.execPath, [...CLI, ...args], {
    env: { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'silent', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout: stdout.trim(), stderr: stderr.trim() };
}

/** util-linux `script`, which runs a command on a pseudo-terminal (runCliAtTerminal). */
export const terminalAvailable = spawnSync('script', ['--version']).status === 0;

/**
 * The CLI at a terminal: run under `script`, its stdin and stdout are a real pseudo-terminal
 * (isTTY), as when a person types the command. Once `prompt` shows, `answer` is typed and Enter
 * pressed. The terminal merges stdout and stderr into `output` (which includes the echoed answer).
 */
export async function runCliAtTerminal(
  args: string[],
  { env = {}, prompt, answer = '' }: { env?: Record<string, string>; prompt?: string; answer?: string } = {},
) {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, ...CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    env: { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let asked = false;
  child.stdout!.on('data', (d) => {
    output += d;
    if (prompt !== undefined && !asked && output.includes(prompt)) {
      asked = true;
      child.stdin!.write(`${answer}\r`);
    }
  });
  child.stderr!.on('data', (d) => (output += d));
  // A prompt that never shows would leave the command waiting for input.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  child.stdin!.end();
  return { code, asked, output: output.replaceAll('\r', '').trim() };
}

/** `npm run cli -- ...args` against this file's database (or `databaseUrl`), `stdin` piped in. */
export const cli = (...args: string[]) => runCli(args);
export const cliWith = ({ databaseUrl, stdin }: { databaseUrl?: string; stdin?: string }, ...args: string[]) =>
  runCli(args, { env: databaseUrl ? { DATABASE_URL: databaseUrl } : {}, stdin });

export async function query<T>(databaseUrl: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The migrations applied to a database, in order. */
export async function applied(databaseUrl: string): Promise<string[]> {
  const rows = await query<{ name: string }>(databaseUrl, 'select name from kysely_migration order by name');
  return rows.map((r) => r.name);
}

/** The real server (the app as `npm start` builds it, as the app role) on `databaseUrl`, its pools connected. */
export async function serverOn(databaseUrl: string): Promise<App> {
  const server = await buildTestApp({
    config: { databaseUrl: appRoleUrl(databaseUrl, appRolePassword(TEST_JWT_SECRET)) },
  });
  expect((await server.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  return server;
}

/** What the CLI says when a server holds connections: how many, from where, as what. */
export const SERVER_CONNECTED =
  /refused: a server is connected to this database \((\d+) connections?: \d+ from (127\.0\.0\.1|::1|local socket) as medreport-ptitspas(-listener)?(, .*)?\); stop it first\. Nothing was changed\.$/;
