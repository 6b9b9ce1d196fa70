import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { multipart } from '../helpers/multipart.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { postUpload } from '../helpers/ptitspas-files.js';
import { startS3 } from '../helpers/s3.js';
import { createOrganization } from '../helpers/tenants.js';

// Both APIs' files through HTTP with the storage on an S3-compatible bucket (s3rver, in this
// process): the bytes that go in come back out, whole or by range, and nothing is left behind.

const owner = await testDb();
let s3: Awaited<ReturnType<typeof startS3>>;
let spoolDir: string;
let app: App;
let parent: PtitsPasAccount;
let enfant: string;

beforeAll(async () => {
  s3 = await startS3();
  spoolDir = await mkdtemp(path.join(tmpdir(), 's3-spool-'));
  app = await buildTestApp({ config: { storage: { backend: 's3', ...s3.settings(spoolDir) } } });
  expect(app.storage.kind).toBe('s3');
  const admin = await ptitspasSuperAdmin(app);
  parent = await ptitspasAccount(app, admin, 'parent');
  const child = await app.inject({
    method: 'POST',
    url: '/api/v1/enfants',
    headers: parent.headers,
    payload: { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2021-01-15' },
  });
  expect(child.statusCode, child.body).toBe(201);
  enfant = child.json().id;
});
afterAll(async () => {
  await app?.close();
  await s3?.close();
  await rm(spoolDir, { recursive: true, force: true });
  await owner.db.destroy();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** `%PDF-1.4\n` then random bytes: a PDF to file-type, and nothing compresses or repeats. */
const randomPdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size - 9)]);

/** The bucket's objects (key → size), as the app's storage lists them. */
async function bucket(): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  for await (const object of app.storage.list()) objects.set(object.key, object.size);
  return objects;
}
/** Files left in the spool directory (writes are spooled there before PutObject). */
async function spooled(): Promise<string[]> {
  const entries = await readdir(spoolDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}
const cleOf = async (id: string) =>
  (await owner.pool.query('select cle from ptitspas.uploads where id = $1', [id])).rows[0]?.cle as string | undefined;

describe('PtitsPas uploads on S3', () => {
  const data = randomPdf(6_000_000);
  let id: string;
  let cle: string;

  it('stores a 6 MB upload in the bucket, as sent', async () => {
    const res = await postUpload(app, parent, { idEnfant: enfant, data, filename: 'carnet complet.pdf' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      nom: 'carnet complet.pdf',
      type_mime: 'application/pdf',
      taille: 6_000_000,
      sha256: sha256(data),
      id_enfant: enfant,
    });
    id = res.json().id;
    cle = (await cleOf(id))!;
    expect((await bucket()).get(cle)).toBe(6_000_000);
    expect(await spooled()).toEqual([]);
  });

  it('serves it back byte for byte, and by range', async () => {
    const url = `/api/v1/uploads/${id}/contenu`;
    const whole = await app.inject({ method: 'GET', url, headers: parent.headers });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-length']).toBe('6000000');
    expect(whole.headers.etag).toBe(`"${sha256(data)}"`);
    expect(sha256(whole.rawPayload)).toBe(sha256(data));

    for (const [range, start, end] of [
      ['bytes=1000000-1999999', 1_000_000, 1_999_999],
      ['bytes=5999990-', 5_999_990, 5_999_999],
      ['bytes=-100', 5_999_900, 5_999_999],
      ['bytes=10-10', 10, 10],
    ] as const) {
      const part = await app.inject({ method: 'GET', url, headers: { ...parent.headers, range } });
      expect(part.statusCode, range).toBe(206);
      expect(part.headers['content-range'], range).toBe(`bytes ${start}-${end}/6000000`);
      expect(part.rawPayload.equals(data.subarray(start, end + 1)), range).toBe(true);
    }
    const past = await app.inject({ method: 'GET', url, headers: { ...parent.headers, range: 'bytes=6000000-' } });
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */6000000');
  });

  it('removes the object from the bucket on DELETE', async () => {
    const res = await app.inject({ method: 'DELETE', url: `/api/v1/uploads/${id}`, headers: parent.headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Fichier supprimé' });
    expect((await bucket()).has(cle)).toBe(false);
    expect(await cleOf(id)).toBeUndefined();
    const gone = await app.inject({ method: 'GET', url: `/api/v1/uploads/${id}/contenu`, headers: parent.headers });
    expect(gone.statusCode).toBe(404);
  });

  it('leaves no object (nor spooled body) for an upload refused after its bytes were stored', async () => {
    const before = await bucket();
    const text = await postUpload(app, parent, { data: Buffer.from('pas un PDF\n'.repeat(1000)), filename: 'x.pdf' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'Type de fichier non accepté : PDF, JPEG, PNG ou WebP uniquement',
    });
    const tooBig = await postUpload(app, parent, { data: randomPdf(10 * 1024 * 1024 + 1) });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    const hidden = await postUpload(app, parent, { idEnfant: '00000000-0000-4000-8000-000000000000' });
    expect(hidden.statusCode).toBe(404);
    expect(await bucket()).toEqual(before);
    expect(await spooled()).toEqual([]);
  });
});

describe('MedReport files on S3', () => {
  it('round-trips a file through POST and GET /api/files identically', async () => {
    const clinic = await createOrganization(app, 'Cabinet S3');
    const patient = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: clinic.doctor.headers,
      payload: { name: 'Jeanne Patient' },
    });
    expect(patient.statusCode, patient.body).toBe(201);
    const data = randomPdf(3_000_000);
    const form = multipart({
      owner_type: 'patient',
      owner_uuid: patient.json().uuid,
      file: { filename: 'compte rendu.pdf', contentType: 'application/pdf', data },
    });
    const before = await bucket();
    const res = await app.inject({
      method: 'POST',
      url: '/api/files',
      headers: { ...clinic.doctor.headers, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ size: data.length, checksum: sha256(data), mime_type: 'application/pdf' });

    const added = [...(await bucket())].filter(([key]) => !before.has(key));
    expect(added).toEqual([[expect.stringMatching(new RegExp(`^org_${clinic.organization.id}/`)), data.length]]);

    const download = await app.inject({
      method: 'GET',
      url: `/api/files/${res.json().uuid}`,
      headers: clinic.owner.headers,
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(sha256(download.rawPayload)).toBe(sha256(data));
    expect(download.rawPayload.equals(data)).toBe(true);
  });
});
