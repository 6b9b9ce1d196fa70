import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Stopping the server the way people do: Ctrl-C in the terminal running `npm start`, which
// signals the whole foreground process group (npm and the server), or `kill -TERM -- -PGID`.
// `npm start` runs `node --import tsx`, not the tsx CLI: that one relays a Ctrl-C and SIGKILLs
// its child when the child has not acknowledged it within 30 ms, which a busy machine missed.

let dataDir: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'api-signals-'));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) kill(child, 'SIGKILL');
  const postmaster = readPostmaster();
  if (postmaster) process.kill(postmaster.pid, 'SIGINT');
  await rm(dataDir, { recursive: true, force: true });
});

function kill(group: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-group.pid!, signal);
  } catch {
    // already gone
  }
}

interface Running {
  group: ChildProcess;
  url: string;
  logs: Array<Record<string, unknown>>;
  /** Resolves once every process of the group has let go of its output (not just npm). */
  done: Promise<void>;
}

/** `npm start` in a process group of its own, as a terminal runs it. */
async function npmStart(): Promise<Running> {
  const group = spawn('npm', ['start'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'debug', RATE_LIMITS: 'off' },
  });
  started.push(group);
  const logs: Array<Record<string, unknown>> = [];
  let rest = '';
  group.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line));
  });
  group.stderr!.resume();
  const done = new Promise<void>((resolve) => group.stdout!.on('close', () => resolve()));
  for (let waited = 0; waited < 60_000; waited += 50) {
    const listening = logs.find((l) => String(l.msg).startsWith('Server listening at'));
    if (listening) return { group, url: /http:\/\/[\d.:]+/.exec(String(listening.msg))![0], logs, done };
    if (group.exitCode !== null) throw new Error(`npm start exited with ${group.exitCode}`);
    await sleep(50);
  }
  throw new Error('the server did not start');
}

function readPostmaster(): { pid: number } | undefined {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  return { pid: Number(readFileSync(file, 'utf8').split('\n')[0]) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ownerToken(url: string): Promise<{ token: string; patient: string }> {
  const json = <T>(res: Response) => res.json() as Promise<T>;
  const post = (pathname: string, body: unknown, token?: string) =>
    fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const password = 'a long passphrase';
  const owner = await json<{ token: string }>(
    await post('/api/register-owner', {
      name: 'Dr Signal',
      email: `signal.${Date.now()}@example.com`,
      password,
      password_confirmation: password,
      organization_name: 'Cabinet Signal',
    }),
  );
  const patient = await json<{ uuid: string }>(await post('/api/patients', { name: 'Patient' }, owner.token));
  return { token: owner.token, patient: patient.uuid };
}

/**
 * A multipart upload whose body trickles in: `chunks` pieces of 64 KiB, one every `everyMs`.
 * Resolves with the status once the server answers (or -1 if the connection is cut).
 */
function slowUpload(url: string, token: string, patient: string, chunks: number, everyMs: number) {
  const boundary = '----signal-test';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="owner_type"\r\n\r\npatient\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="owner_uuid"\r\n\r\n${patient}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n` +
      'Content-Type: application/pdf\r\n\r\n%PDF-1.4\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const piece = Buffer.alloc(64 * 1024, 0x20);
  const length = head.length + chunks * piece.length + tail.length;
  let sent = 0;
  const status = new Promise<number>((resolve) => {
    const req = request(
      `${url}/api/files`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(-1));
    req.write(head);
    const timer = setInterval(() => {
      if (sent === chunks) {
        clearInterval(timer);
        req.end(tail);
        return;
      }
      sent++;
      req.write(piece);
    }, everyMs);
  });
  return { status, started: () => sent > 0 };
}

async function partialFiles(): Promise<string[]> {
  const dir = path.join(dataDir, 'files', 'tmp');
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.partial'));
}

describe('stopping `npm start`', () => {
  it('drains an upload in flight on one Ctrl-C, even when the signal arrives twice, then stops PostgreSQL', async () => {
    // A previous run killed mid-upload left a partial file behind: the next start removes it.
    const stale = path.join(dataDir, 'files', 'tmp', `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-999999`);
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'abandoned.partial'), 'half an upload');

    const server = await npmStart();
    expect(existsSync(stale)).toBe(false);
    expect(server.logs.some((l) => l.msg === 'removed uploads left unfinished by a stopped process')).toBe(true);

    const { token, patient } = await ownerToken(server.url);
    const upload = slowUpload(server.url, token, patient, 20, 75); // ~1.5 s of body
    while (!upload.started()) await sleep(10);
    const postgres = readPostmaster()!.pid;

    kill(server.group, 'SIGINT'); // the terminal's Ctrl-C, to the whole group...
    await sleep(30);
    kill(server.group, 'SIGINT'); // ...and the same Ctrl-C once more, as npm relays it

    expect(await upload.status).toBe(201);
    await server.done;
    const messages = server.logs.map((l) => l.msg);
    expect(messages.filter((m) => m === 'shutting down')).toHaveLength(1);
    expect(messages).toContain('stopped');
    expect(messages).not.toContain('forcing the exit');
    // PostgreSQL got the same Ctrl-C: the connections it drops are no news to log.
    expect(messages).not.toContain('idle database connection lost');
    expect(alive(postgres)).toBe(false);
    expect(await partialFiles()).toEqual([]);
  });

  it('drains on SIGTERM to the process group', async () => {
    const server = await npmStart();
    const postgres = readPostmaster()!.pid;
    kill(server.group, 'SIGTERM');
    await server.done;
    const messages = server.logs.map((l) => l.msg);
    expect(server.logs.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGTERM' });
    expect(messages).toContain('stopped');
    expect(alive(postgres)).toBe(false);
  });

  it('forces the exit on a deliberate second Ctrl-C, and still stops PostgreSQL', async () => {
    const server = await npmStart();
    const { token, patient } = await ownerToken(server.url);
    const upload = slowUpload(server.url, token, patient, 1000, 100); // would take 100 s
    while (!upload.started()) await sleep(10);
    const postgres = readPostmaster()!.pid;

    kill(server.group, 'SIGINT');
    // Deliberate: pressed again well after the server said it is stopping (a loaded machine can
    // handle the first signal late, and the second must not fall in the repeat window).
    while (!server.logs.some((l) => l.msg === 'shutting down')) await sleep(10);
    await sleep(1500);
    kill(server.group, 'SIGINT');

    await server.done;
    expect(server.logs.map((l) => l.msg)).toContain('forcing the exit');
    expect(server.logs.find((l) => l.msg === 'forcing the exit')).toMatchObject({ reason: 'second SIGINT' });
    expect(alive(postgres)).toBe(false);
    expect(await upload.status).toBe(-1);
  });
});
