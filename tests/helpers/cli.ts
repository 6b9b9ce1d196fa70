import { spawn } from 'node:child_process';
import { testDatabaseUrl } from './database.js';

/**
 * `npm run cli -- ...args` as a user runs it (a child process from the sources), against this
 * test file's database unless `env.DATABASE_URL` says otherwise; `stdin` is piped in when given.
 */
export async function runCli(
  args: string[],
  { env = {}, stdin }: { env?: Record<string, string>; stdin?: string } = {},
) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
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
