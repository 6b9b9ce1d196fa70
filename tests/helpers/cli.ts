import { spawn, spawnSync } from 'node:child_process';
import { testDatabaseUrl } from './database.js';

const CLI = ['--import', 'tsx', 'src/cli.ts'];

/**
 * `npm run cli -- ...args` as a user runs it (a child process from the sources), against this
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
