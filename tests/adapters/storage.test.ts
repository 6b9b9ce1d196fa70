import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createStorage,
  type ListedObject,
  ObjectTooLarge,
  type Storage,
  TEMP_PREFIX,
} from '../../adapters/storage/index.js';
import { s3Backend } from '../../adapters/storage/s3.js';
import { startS3 } from '../helpers/s3.js';

const MB = 1024 * 1024;

interface Harness {
  storage: Storage;
  /** The S3 backend's spool directory. */
  spoolDir?: string;
  close(): Promise<void>;
}

const harnesses: Record<'local' | 's3', () => Promise<Harness>> = {
  async local() {
    const root = await mkdtemp(path.join(tmpdir(), 'storage-local-'));
    const storage = await createStorage({ backend: 'local', root });
    return {
      storage,
      async close() {
        await storage.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  async s3() {
    const s3 = await startS3();
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'storage-spool-'));
    const storage = await createStorage({ backend: 's3', ...s3.settings(spoolDir) });
    return {
      storage,
      spoolDir,
      async close() {
        await storage.close();
        await s3.close();
        await rm(spoolDir, { recursive: true, force: true });
      },
    };
  },
};

/** `bytes` random bytes streamed in 64 KiB chunks, hashed as they are produced. */
function randomSource(bytes: number) {
  const hash = createHash('sha256');
  let left = bytes;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(64 * 1024, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** A body whose sender hangs up after `bytes` bytes. */
function cutShort(bytes: number) {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.destroy(new Error('client hung up'));
      sent += 16 * 1024;
      this.push(randomBytes(16 * 1024));
    },
  });
}

async function sha256(stream: Readable) {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function all(objects: AsyncIterable<ListedObject>) {
  const listed: ListedObject[] = [];
  for await (const object of objects) listed.push(object);
  return listed.sort((a, b) => a.key.localeCompare(b.key));
}

/** Files (not directories) anywhere under `dir`. */
async function filesUnder(dir: string) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe.each(['local', 's3'] as const)('storage contract: %s backend', (kind) => {
  let harness: Harness;
  let storage: Storage;

  beforeAll(async () => {
    harness = await harnesses[kind]();
    storage = harness.storage;
  });

  afterAll(() => harness?.close());

  it('stores a streamed 8 MB body byte for byte, and reads it back whole', async () => {
    const source = randomSource(8 * MB);
    const result = await storage.put('big/random.bin', source.stream, { maxBytes: 10 * MB });
    const expected = source.sha256();
    expect(result.size).toBe(8 * MB);
    expect(result.sha256).toBe(expected);
    expect(result.head).toHaveLength(4100);

    const stored = await storage.get('big/random.bin');
    expect(stored?.size).toBe(8 * MB);
    // Same digest: nothing but the body was stored (no aws-chunked framing around it).
    expect(await sha256(stored!.stream)).toBe(expected);
  });

  it('reads a byte range, and gives the size of the whole object', async () => {
    const bytes = randomBytes(1000);
    await storage.put('ranges/one.bin', bytes, { maxBytes: 1000 });

    const part = await storage.get('ranges/one.bin', { start: 10, end: 19 });
    expect(part?.size).toBe(1000);
    expect(await buffer(part!.stream)).toEqual(bytes.subarray(10, 20));

    const tail = await storage.get('ranges/one.bin', { start: 990, end: 5000 });
    expect(await buffer(tail!.stream)).toEqual(bytes.subarray(990));

    for (const range of [
      { start: 20, end: 10 },
      { start: 2000, end: 3000 },
    ]) {
      const none = await storage.get('ranges/one.bin', range);
      expect(none?.size).toBe(1000);
      expect(await buffer(none!.stream)).toHaveLength(0);
    }
  });

  it('refuses a body larger than maxBytes with ObjectTooLarge, and stores nothing of it', async () => {
    const source = randomSource(2 * MB);
    await expect(storage.put('toolarge/one.bin', source.stream, { maxBytes: MB })).rejects.toBeInstanceOf(
      ObjectTooLarge,
    );
    expect(await storage.exists('toolarge/one.bin')).toBe(false);
    expect(await all(storage.list('toolarge/'))).toEqual([]);
    expect(await all(storage.list(TEMP_PREFIX))).toEqual([]);
  });

  it('fails a write whose body is cut short, and stores nothing of it', async () => {
    await expect(storage.put('aborted/one.bin', cutShort(256 * 1024), { maxBytes: MB })).rejects.toThrow();
    expect(await storage.exists('aborted/one.bin')).toBe(false);
    expect(await all(storage.list('aborted/'))).toEqual([]);
    expect(await all(storage.list(TEMP_PREFIX))).toEqual([]);
  });

  it('answers a missing key: get undefined, exists false, remove quietly', async () => {
    expect(await storage.get('missing/none.bin')).toBeUndefined();
    expect(await storage.get('missing/none.bin', { start: 0, end: 9 })).toBeUndefined();
    expect(await storage.get('missing/none.bin', { start: 9, end: 0 })).toBeUndefined();
    expect(await storage.exists('missing/none.bin')).toBe(false);
    await expect(storage.remove('missing/none.bin')).resolves.toBeUndefined();
  });

  it('lists exactly the keys under a prefix, with their sizes; removes them', async () => {
    await storage.put('listed/a.txt', Buffer.from('a'), { maxBytes: 10 });
    await storage.put('listed/sub/b.txt', Buffer.from('bb'), { maxBytes: 10 });
    await storage.put('listed-not/c.txt', Buffer.from('ccc'), { maxBytes: 10 });
    await storage.put('other/d.txt', Buffer.from('dddd'), { maxBytes: 10 });

    const listed = await all(storage.list('listed/'));
    expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([
      { key: 'listed/a.txt', size: 1 },
      { key: 'listed/sub/b.txt', size: 2 },
    ]);
    expect(listed.every(({ modified }) => Date.now() - modified.getTime() < 60_000)).toBe(true);
    expect((await all(storage.list('listed'))).map(({ key }) => key)).toEqual([
      'listed-not/c.txt',
      'listed/a.txt',
      'listed/sub/b.txt',
    ]);

    await storage.remove('listed/a.txt');
    expect(await storage.exists('listed/a.txt')).toBe(false);
    expect((await all(storage.list('listed/'))).map(({ key }) => key)).toEqual(['listed/sub/b.txt']);
  });

  it('stores a Buffer body, an empty one, and replaces an object written again', async () => {
    const result = await storage.put('buffers/one.txt', Buffer.from('bonjour'), { maxBytes: 100, headBytes: 3 });
    expect(result).toEqual({
      size: 7,
      sha256: createHash('sha256').update('bonjour').digest('hex'),
      head: Buffer.from('bon'),
    });
    expect(await buffer((await storage.get('buffers/one.txt'))!.stream)).toEqual(Buffer.from('bonjour'));

    await storage.put('buffers/one.txt', Buffer.from('salut'), { maxBytes: 100 });
    expect(await buffer((await storage.get('buffers/one.txt'))!.stream)).toEqual(Buffer.from('salut'));

    expect((await storage.put('buffers/empty.txt', Buffer.alloc(0), { maxBytes: 100 })).size).toBe(0);
    const empty = await storage.get('buffers/empty.txt');
    expect(empty?.size).toBe(0);
    expect(await buffer(empty!.stream)).toHaveLength(0);
  });

  it('refuses keys that are not safe relative paths', async () => {
    for (const key of ['../escape', '/absolute', 'a/../b', 'a//b', '']) {
      await expect(storage.put(key, Buffer.from('x'), { maxBytes: 10 })).rejects.toThrow('invalid storage key');
      await expect(storage.get(key)).rejects.toThrow('invalid storage key');
    }
  });

  it.runIf(kind === 's3')('leaves no spooled body behind once writes are done', async () => {
    expect(await filesUnder(harness.spoolDir!)).toEqual([]);
  });
});

describe('s3 backend', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let spoolDir: string;

  beforeAll(async () => {
    s3 = await startS3();
    spoolDir = await mkdtemp(path.join(tmpdir(), 'storage-spool-'));
  });

  afterAll(async () => {
    await s3?.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('removes at start the spool of dead processes of this host, and at close its own', async () => {
    const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
    // Past Linux's pid_max (2^22): surely no such process.
    const dead = path.join(spoolDir, `${host}-99999999`);
    const living = path.join(spoolDir, `${host}-${process.ppid}`);
    const foreign = path.join(spoolDir, 'elsewhere-12');
    for (const dir of [dead, living, foreign]) {
      await mkdir(dir);
      await writeFile(path.join(dir, 'x.spool'), 'partial');
    }

    const backend = await s3Backend(s3.settings(spoolDir));
    expect((await readdir(spoolDir)).sort()).toEqual([path.basename(foreign), path.basename(living)].sort());

    await backend.write('closing/one.txt', Readable.from([Buffer.from('x')]));
    expect(await readdir(spoolDir)).toContain(`${host}-${process.pid}`);
    await backend.close();
    expect(await readdir(spoolDir)).not.toContain(`${host}-${process.pid}`);
  });

  it('sends the whole body again after a server error, not after a refusal', async () => {
    // An S3 that knows the bucket and answers each PUT with the next status, after reading it all.
    const statuses = [500, 200, 403];
    const received: number[] = [];
    const fake = createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      request.on('end', () => {
        if (request.method === 'PUT') received.push(bytes);
        const status = request.method === 'PUT' ? statuses.shift()! : 200;
        response.writeHead(status, { 'content-type': 'application/xml' });
        const code = status === 500 ? 'InternalError' : 'AccessDenied';
        response.end(status === 200 ? '' : `<Error><Code>${code}</Code><Message>no</Message></Error>`);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as AddressInfo;
    // The SDK warns on the console of each failed streamed request.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const backend = await s3Backend({ ...s3.settings(spoolDir), endpoint: `http://127.0.0.1:${port}` });
      await backend.write('retried/one.bin', Readable.from([randomBytes(300_000)]));
      expect(received).toEqual([300_000, 300_000]);
      await expect(backend.write('refused/one.bin', Readable.from([randomBytes(1000)]))).rejects.toThrow();
      expect(received).toEqual([300_000, 300_000, 1000]);
      await backend.close();
    } finally {
      warn.mockRestore();
      fake.close();
    }
  });

  it('check() answers while the service is up and throws once it is gone (readiness)', async () => {
    const other = await startS3();
    const backend = await s3Backend(other.settings(spoolDir));
    try {
      await expect(backend.check()).resolves.toBeUndefined();
      await other.close();
      await expect(backend.check()).rejects.toThrow();
    } finally {
      await backend.close();
    }
  });

  it('fails to start on a bucket that does not exist', async () => {
    await expect(s3Backend({ ...s3.settings(spoolDir), bucket: 'no-such-bucket' })).rejects.toThrow(
      'S3 bucket no-such-bucket unreachable',
    );
  });
});
