import path from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';
import { freePort } from '../process-stats.js';
import { type Child, type Cleanup, log, startChild, stopChild, subDir, tail, waitUntil } from './processes.js';

/** redis-server on a free port, nothing persisted; its URL. */
export async function startRedis(workDir: string, cleanup: Cleanup): Promise<string> {
  const dir = await subDir(workDir, 'redis');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = startChild('redis-server', 'redis-server', args, {
    env: { PATH: process.env.PATH },
    logFile: path.join(dir, 'redis.log'),
  });
  cleanup.defer('stop Redis', async () => void (await stopChild(child, 5_000)));
  const ready = async () => (await tail(child.logFile, 100)).includes('Ready to accept connections');
  await waitUntil('Redis ready', ready, child, 10_000).catch((err: Error) => {
    throw new Error(`${err.message}\n(redis-server is Debian's redis-server package: apt-get install -y redis-server)`);
  });
  log(`Redis on port ${port}`);
  return `redis://127.0.0.1:${port}`;
}

export interface S3 {
  endpoint: string;
  bucket: string;
}

/** s3rver (an S3-compatible server, in this process) on a free port, with one empty bucket. */
export async function startS3(workDir: string, cleanup: Cleanup): Promise<S3> {
  const bucket = 'cluster-test';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: await subDir(workDir, 's3rver'),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  cleanup.defer('stop s3rver', () => server.close());
  log(`s3rver on port ${port}, bucket ${bucket}`);
  return { endpoint: `http://127.0.0.1:${port}`, bucket };
}

export interface Instance {
  name: string;
  url: string;
  child: Child;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `src/server.ts` in a process of its own (node with the tsx loader), its output in `workDir/<name>.log`. */
export async function startInstance(
  name: string,
  workDir: string,
  env: Record<string, string>,
  cleanup: Cleanup,
): Promise<Instance> {
  const port = await freePort();
  const child = startChild(name, process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    // Only what the test sets, PATH and HOME: nothing else of the caller's environment reaches the instances.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port), HOST: '127.0.0.1' },
    logFile: path.join(workDir, `instance-${name}.log`),
  });
  cleanup.defer(`stop instance ${name}`, async () => void (await stopChild(child)));
  return { name, url: `http://127.0.0.1:${port}`, child };
}

/** Until GET /ready answers 200 (database, storage and Redis reachable). */
export async function waitReady(instance: Instance): Promise<void> {
  const ready = async () => (await fetch(`${instance.url}/ready`)).status === 200;
  await waitUntil(`instance ${instance.name} ready`, ready, instance.child, 90_000);
}

/** Runs `npm run cli -- seed:demo` (small) against the owner URL, as the bench seeds its data. */
export async function seedDemo(
  workDir: string,
  env: Record<string, string>,
  cleanup: Cleanup,
  args: string[],
): Promise<void> {
  const dir = await subDir(workDir, 'seed');
  const child = startChild(
    'seed:demo',
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'seed:demo', '--force', ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, DATA_DIR: dir },
      logFile: path.join(dir, 'seed.log'),
    },
  );
  // An instance that fails to start ends the run while the seed may still be running.
  cleanup.defer('stop seed:demo', async () => void (await stopChild(child, 5_000)));
  const code = await child.exited;
  if (code !== 0) throw new Error(`seed:demo exited with ${code}:\n${await tail(child.logFile)}`);
}

/** Rows of `query` run as the owner, straight to PostgreSQL. */
export async function ownerQuery<T>(ownerUrl: string, query: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}
