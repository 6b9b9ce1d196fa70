import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process whose stdout and stderr go to `logFile`. */
export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (-1: killed by a signal, or never started). */
  exited: Promise<number | null>;
  readonly running: boolean;
}

/**
 * Undo steps, run last-in first-out once, whatever ends the run (success, failure, Ctrl-C). Each
 * step's failure is reported and the others still run.
 */
export class Cleanup {
  readonly #steps: Array<{ what: string; run: () => Promise<void> }> = [];
  #done: Promise<void> | undefined;

  defer(what: string, run: () => Promise<void>): void {
    this.#steps.push({ what, run });
  }

  run(): Promise<void> {
    this.#done ??= (async () => {
      for (const step of this.#steps.reverse()) {
        log(`cleanup: ${step.what}`);
        await step.run().catch((err: unknown) => log(`cleanup: ${step.what} failed: ${(err as Error).message}`));
      }
    })();
    return this.#done;
  }
}

const startedAt = performance.now();

/** A progress line on stderr, with the seconds since the run started. */
export const log = (message: string) =>
  process.stderr.write(`[cluster +${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);

/**
 * A fresh directory for everything the run writes. Mode 755: as root, PostgreSQL and PgBouncer run
 * as the postgres user, which must enter it (mkdtemp makes it 700).
 */
export async function makeWorkDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cluster-test-'));
  await chmod(dir, 0o755);
  return dir;
}

export async function subDir(parent: string, name: string): Promise<string> {
  const dir = path.join(parent, name);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Starts `command`; its output goes straight to `logFile` (kept even if this process dies). */
export function startChild(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): Child {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', fd, fd] });
    let running = true;
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve(code ?? (signal ? -1 : null));
      });
      child.once('error', (err) => {
        running = false;
        log(`${name}: ${err.message}`);
        resolve(-1);
      });
    });
    return {
      name,
      process: child,
      logFile: options.logFile,
      exited,
      get running() {
        return running;
      },
    };
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM (graceful), then SIGKILL after `graceMs`; resolves with the exit code (-1 for a signal). */
export async function stopChild(child: Child, graceMs = 10_000): Promise<number | null> {
  if (child.running) child.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.running) {
      log(`${child.name} did not stop within ${graceMs} ms: killed`);
      child.process.kill('SIGKILL');
    }
  }, graceMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` every 100 ms until it is true; fails early when `child` exits, naming its last lines. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, child: Child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.name} exited before ${what}:\n${await tail(child.logFile)}`);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${await tail(child.logFile)}`);
}

/** The last `lines` lines of a log, each cut at 600 characters (a logged stack is one long JSON line). */
export async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => line.slice(0, 600))
    .join('\n');
}
