import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3Settings } from '../../adapters/storage/s3.js';

/**
 * An S3-compatible server (s3rver) in this process, on a free local port, with one empty bucket.
 * Where s3rver 3.7 differs from S3: a listing longer than one page fails with 500 (its
 * continuation tokens use DES, which OpenSSL 3 no longer offers); `Range: bytes=0-0` answers the
 * whole object; a range on an empty object declares one byte it never sends.
 */
export async function startS3() {
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  const bucket = 'test-bucket';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    bucket,
    settings: (spoolDir: string): S3Settings => ({
      endpoint,
      bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      spoolDir,
    }),
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
