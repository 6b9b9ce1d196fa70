import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { whileDeletionHeld } from '../helpers/held-deletion.js';
import { type FilePart, multipart, PNG } from '../helpers/multipart.js';
import {
  createOrganization,
  expectIsolation,
  type Member,
  type TenantFixture,
  type TenantResource,
} from '../helpers/tenants.js';

/** The database as its owner (no row-level security), to check what the API wrote. */
const database = await testDb();
afterAll(() => database.db.destroy());

/** A PDF-looking payload of a few KB: what file-type recognises from its `%PDF-` header. */
function pdfBytes(kb = 6): Buffer {
  let text = '%PDF-1.4\n';
  for (let i = 0; text.length < kb * 1024; i++) text += `${i} 0 obj << /Type /Page /Id (${randomUUID()}) >> endobj\n`;
  return Buffer.from(`${text}%%EOF\n`);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function createPatient(app: App, member: Member, name = 'Jeanne Patient'): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/patients', headers: member.headers, payload: { name } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().uuid;
}

interface UploadOptions {
  ownerType?: string;
  ownerUuid: string;
  filename?: string;
  data?: Buffer;
  contentType?: string;
}

function upload(
  app: App,
  member: Member,
  {
    ownerType = 'patient',
    ownerUuid,
    filename = 'doc.pdf',
    data = pdfBytes(),
    contentType = 'application/pdf',
  }: UploadOptions,
) {
  const file: FilePart = { filename, contentType, data };
  const form = multipart({ owner_type: ownerType, owner_uuid: ownerUuid, file });
  return app.inject({
    method: 'POST',
    url: '/api/files',
    headers: { ...member.headers, ...form.headers },
    payload: form.payload,
  });
}

/** Every regular file under `dir`, relative to it ('/'-separated); [] when `dir` does not exist. */
async function walk(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

const filesRoot = (app: App) => path.join(app.config.dataDir, 'files');

function fileRows(ownerUuid: string) {
  return database.db
    .selectFrom('medreport.files')
    .selectAll()
    .where('owner_uuid', '=', ownerUuid)
    .orderBy('created_at')
    .orderBy('uuid')
    .execute();
}

describe('with the default app', () => {
  let app: App;
  let a: TenantFixture;
  let b: TenantFixture;
  beforeAll(async () => {
    app = await buildTestApp();
    a = await createOrganization(app, 'Cabinet A');
    b = await createOrganization(app, 'Cabinet B');
  });
  afterAll(() => app.close());

  describe('POST /api/files then GET /api/files/:uuid', () => {
    it('stores the bytes as uploaded, records them, and serves them back with an ETag', async () => {
      const patient = await createPatient(app, a.doctor);
      const data = pdfBytes(8);
      const before = new Date();
      const res = await upload(app, a.doctor, { ownerUuid: patient, filename: 'compte rendu.pdf', data });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();

      const month = String(before.getUTCMonth() + 1).padStart(2, '0');
      expect(body).toEqual({
        uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        owner_type: 'patient',
        owner_uuid: patient,
        original_name: 'compte rendu.pdf',
        mime_type: 'application/pdf',
        size: data.length,
        checksum: sha256(data),
        file_version: 1,
        created_at: expect.any(String),
      });
      expect(new Date(body.created_at).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);

      // Where it lies is the server's business: in the row, never in an answer.
      const [row] = await fileRows(patient);
      const storedPath = `org_${a.organization.id}/${before.getUTCFullYear()}/${month}/${body.uuid}`;
      expect(row).toMatchObject({
        organization_id: a.organization.id,
        uuid: body.uuid,
        owner_type: 'patient',
        path: storedPath,
        size: data.length,
        checksum: sha256(data),
        mime_type: 'application/pdf',
        file_version: 1,
        created_by: a.doctor.user.id,
        deleted_at: null,
      });

      // Patients' documents are the server user's alone: not readable by other local accounts.
      const storedAt = path.join(filesRoot(app), storedPath);
      expect((await stat(storedAt)).mode & 0o777).toBe(0o600);
      for (let dir = path.dirname(storedAt); dir !== path.dirname(filesRoot(app)); dir = path.dirname(dir)) {
        expect((await stat(dir)).mode & 0o777, dir).toBe(0o700);
      }

      const stored = await readFile(storedAt);
      expect(stored.equals(data)).toBe(true);
      expect(await walk(path.join(filesRoot(app), 'tmp'))).toEqual([]);

      const download = await app.inject({ method: 'GET', url: `/api/files/${body.uuid}`, headers: a.owner.headers });
      expect(download.statusCode).toBe(200);
      expect(download.rawPayload.equals(data)).toBe(true);
      expect(download.headers['content-type']).toBe('application/pdf');
      expect(Number(download.headers['content-length'])).toBe(data.length);
      expect(download.headers['content-disposition']).toBe(
        `attachment; filename="compte rendu.pdf"; filename*=UTF-8''compte%20rendu.pdf`,
      );
      expect(download.headers.etag).toBe(`"${sha256(data)}"`);

      const cached = await app.inject({
        method: 'GET',
        url: `/api/files/${body.uuid}`,
        headers: { ...a.owner.headers, 'if-none-match': `"${sha256(data)}"` },
      });
      expect(cached.statusCode).toBe(304);
      expect(cached.rawPayload.length).toBe(0);
      expect(cached.headers.etag).toBe(`"${sha256(data)}"`);

      const stale = await app.inject({
        method: 'GET',
        url: `/api/files/${body.uuid}`,
        headers: { ...a.owner.headers, 'if-none-match': `"${sha256(Buffer.from('other'))}"` },
      });
      expect(stale.statusCode).toBe(200);
      expect(stale.rawPayload.equals(data)).toBe(true);
    });

    it('detects the type from the content, not from the name or the declared type', async () => {
      const patient = await createPatient(app, a.doctor);
      const data = pdfBytes(2);
      const res = await upload(app, a.doctor, {
        ownerUuid: patient,
        filename: 'x.txt',
        data,
        contentType: 'text/plain',
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ mime_type: 'application/pdf', original_name: 'x.txt' });

      const png = await upload(app, a.doctor, {
        ownerUuid: patient,
        filename: 'scan',
        data: PNG,
        contentType: 'application/octet-stream',
      });
      expect(png.statusCode, png.body).toBe(201);
      expect(png.json()).toMatchObject({ mime_type: 'image/png', size: PNG.length, checksum: sha256(PNG) });
      // The type is in the row; the stored key carries none (it is chosen before the bytes arrive).
      expect((await fileRows(patient)).map((r) => r.mime_type)).toEqual(['application/pdf', 'image/png']);
    });

    it('refuses another body type with 415 naming what the route reads', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/files',
        headers: { ...a.doctor.headers, 'content-type': 'text/plain' },
        payload: 'not a form',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().message).toBe("Ce type de contenu n'est pas pris en charge : envoyez multipart/form-data.");
    });

    it('attaches files to prescriptions and invoices too', async () => {
      const patient = await createPatient(app, a.doctor);
      const prescription = await app.inject({
        method: 'POST',
        url: '/api/prescriptions',
        headers: a.doctor.headers,
        payload: { patient_uuid: patient, medication: 'Paracétamol 1 g' },
      });
      expect(prescription.statusCode, prescription.body).toBe(201);
      const invoice = await app.inject({
        method: 'POST',
        url: '/api/invoices',
        headers: a.doctor.headers,
        payload: { patient_uuid: patient, designation: 'Consultation', unit_price: 25, quantity: 1 },
      });
      expect(invoice.statusCode, invoice.body).toBe(201);

      for (const [ownerType, ownerUuid] of [
        ['prescription', prescription.json().uuid],
        ['invoice', invoice.json().uuid],
      ] as const) {
        const res = await upload(app, a.doctor, { ownerType, ownerUuid });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json()).toMatchObject({ owner_type: ownerType, owner_uuid: ownerUuid, file_version: 1 });
        const rows = await fileRows(ownerUuid);
        expect(rows.map((r) => r.owner_type)).toEqual([ownerType]);
      }
    });

    it('answers 401 without a token, and 404 for an unknown file', async () => {
      const patient = await createPatient(app, a.doctor);
      const form = multipart({
        owner_type: 'patient',
        owner_uuid: patient,
        file: { filename: 'a.pdf', contentType: 'application/pdf', data: pdfBytes(1) },
      });
      const anonymousUpload = await app.inject({
        method: 'POST',
        url: '/api/files',
        headers: form.headers,
        payload: form.payload,
      });
      expect(anonymousUpload.statusCode).toBe(401);
      expect(await fileRows(patient)).toEqual([]);

      const uuid = (await upload(app, a.doctor, { ownerUuid: patient })).json().uuid;
      const anonymous = await app.inject({ method: 'GET', url: `/api/files/${uuid}` });
      expect(anonymous.statusCode).toBe(401);

      const unknown = await app.inject({ method: 'GET', url: `/api/files/${randomUUID()}`, headers: a.doctor.headers });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ success: false, message: 'Fichier introuvable.' });
    });
  });

  describe('versions', () => {
    it('counts uploads of the same name to the same owner; another name or owner starts at 1', async () => {
      const first = await createPatient(app, a.doctor, 'Premier');
      const second = await createPatient(app, a.doctor, 'Second');
      const versionOf = async (ownerUuid: string, filename: string) => {
        const res = await upload(app, a.doctor, { ownerUuid, filename });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().file_version;
      };

      expect(await versionOf(first, 'ordonnance.pdf')).toBe(1);
      expect(await versionOf(first, 'ordonnance.pdf')).toBe(2);
      expect(await versionOf(first, 'radio.pdf')).toBe(1);
      expect(await versionOf(second, 'ordonnance.pdf')).toBe(1);
      expect(await versionOf(first, 'ordonnance.pdf')).toBe(3);

      const rows = await fileRows(first);
      expect(rows.map((r) => [r.original_name, r.file_version])).toEqual([
        ['ordonnance.pdf', 1],
        ['ordonnance.pdf', 2],
        ['radio.pdf', 1],
        ['ordonnance.pdf', 3],
      ]);
      // Each version is its own stored file.
      expect(new Set(rows.map((r) => r.path)).size).toBe(4);
    });

    it('numbers concurrent uploads of one name 1..n, and refuses an owner deleted while it waited', async () => {
      const owner = await createPatient(app, a.doctor, 'Envois simultanés');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => upload(app, a.doctor, { ownerUuid: owner, filename: 'bilan.pdf' })),
      );
      expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
      expect(answers.map((r) => r.json().file_version).sort()).toEqual([1, 2, 3, 4, 5]);

      // A deletion holds the organization's lock while the upload waits for it.
      const doomed = await createPatient(app, a.doctor, 'Supprimé pendant l’envoi');
      const res = await whileDeletionHeld(app, a, doomed, () => upload(app, a.doctor, { ownerUuid: doomed }));
      expect(res.statusCode, res.body).toBe(422);
      expect(await fileRows(doomed)).toEqual([]);
    });
  });

  describe('isolation between organizations', () => {
    const files: TenantResource = {
      name: 'files',
      async create(app, member) {
        const patient = await createPatient(app, member);
        const res = await upload(app, member, { ownerUuid: patient });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().uuid;
      },
      byId: [{ method: 'GET', url: (id) => `/api/files/${id}` }],
    };

    it('hides one organization’s files from the other', async () => {
      await expectIsolation(app, files, a, b);
    });

    it('answers 404 to the other organization’s doctor, without the ETag or the bytes', async () => {
      const uuid = await files.create(app, a.doctor);
      const res = await app.inject({ method: 'GET', url: `/api/files/${uuid}`, headers: b.doctor.headers });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ success: false, message: 'Fichier introuvable.', error: 'Fichier introuvable.' });
      expect(res.headers.etag).toBeUndefined();
    });
  });

  describe('owner and form checks', () => {
    it('refuses an owner from another organization with 422 and records nothing', async () => {
      const foreign = await createPatient(app, b.doctor);
      const res = await upload(app, a.doctor, { ownerUuid: foreign });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ success: false, errors: { owner_uuid: expect.any(Array) } });
      expect(await fileRows(foreign)).toEqual([]);
    });

    it('refuses a soft-deleted patient with 422', async () => {
      const patient = await createPatient(app, a.doctor);
      const deleted = await app.inject({
        method: 'DELETE',
        url: `/api/patients/${patient}`,
        headers: a.doctor.headers,
      });
      expect(deleted.statusCode, deleted.body).toBe(200);
      const res = await upload(app, a.doctor, { ownerUuid: patient });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toHaveProperty('owner_uuid');
      expect(await fileRows(patient)).toEqual([]);
    });

    it('refuses an unknown owner_type with 422', async () => {
      const patient = await createPatient(app, a.doctor);
      const res = await upload(app, a.doctor, { ownerType: 'doctor', ownerUuid: patient });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ success: false, errors: { owner_type: expect.any(Array) } });
      expect(res.json().errors).not.toHaveProperty('owner_uuid');
      expect(await fileRows(patient)).toEqual([]);
    });

    it('refuses a form without a file with 422', async () => {
      const patient = await createPatient(app, a.doctor);
      const form = multipart({ owner_type: 'patient', owner_uuid: patient });
      const res = await app.inject({
        method: 'POST',
        url: '/api/files',
        headers: { ...a.doctor.headers, ...form.headers },
        payload: form.payload,
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({
        success: false,
        message: 'Le champ file est obligatoire.',
        errors: { file: expect.any(Array) },
      });
    });

    it('refuses a file name with a NUL byte with 422', async () => {
      const patient = await createPatient(app, a.doctor);
      const res = await upload(app, a.doctor, { ownerUuid: patient, filename: 'scan\u0000.pdf', data: pdfBytes(1) });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toHaveProperty('file');
      expect(await fileRows(patient)).toEqual([]);
    });

    it('refuses a JSON body with 415', async () => {
      const patient = await createPatient(app, a.doctor);
      const res = await app.inject({
        method: 'POST',
        url: '/api/files',
        headers: a.doctor.headers,
        payload: { owner_type: 'patient', owner_uuid: patient, file: 'aGVsbG8=' },
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ success: false, message: expect.any(String), error: expect.any(String) });
      expect(await fileRows(patient)).toEqual([]);
    });

    it('leaves no temporary file behind after refusals', async () => {
      expect(await walk(path.join(filesRoot(app), 'tmp'))).toEqual([]);
    });
  });

  describe('activity log', () => {
    it('writes one file.created row per upload, in the uploader’s organization', async () => {
      const patient = await createPatient(app, a.doctor);
      const uploaded = [];
      for (const filename of ['bilan.pdf', 'bilan.pdf', 'radio.pdf']) {
        const res = await upload(app, a.doctor, { ownerUuid: patient, filename });
        expect(res.statusCode, res.body).toBe(201);
        uploaded.push(res.json());
      }
      for (const file of uploaded) {
        const rows = await database.db
          .selectFrom('medreport.activity_log')
          .selectAll()
          .where('entity_uuid', '=', file.uuid)
          .execute();
        expect(rows).toEqual([
          expect.objectContaining({
            organization_id: a.organization.id,
            user_id: a.doctor.user.id,
            action: 'file.created',
            entity_type: 'file',
            entity_uuid: file.uuid,
            entity_name: file.original_name,
          }),
        ]);
      }
    });

    it('writes nothing when the upload is refused', async () => {
      const foreign = await createPatient(app, b.doctor);
      const before = await database.db
        .selectFrom('medreport.activity_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'file.created')
        .executeTakeFirstOrThrow();
      expect((await upload(app, a.doctor, { ownerUuid: foreign })).statusCode).toBe(422);
      const after = await database.db
        .selectFrom('medreport.activity_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'file.created')
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });
  });
});

describe('size limit', () => {
  const LIMIT = 64 * 1024;
  let app: App;
  let org: TenantFixture;
  beforeAll(async () => {
    app = await buildTestApp({ config: { fileMaxBytes: LIMIT } });
    org = await createOrganization(app, 'Cabinet Limite');
  });
  afterAll(() => app.close());

  it('accepts a file of exactly the limit', async () => {
    const patient = await createPatient(app, org.doctor);
    const head = pdfBytes(1);
    const data = Buffer.concat([head, Buffer.alloc(LIMIT - head.length, 0x20)]);
    const res = await upload(app, org.doctor, { ownerUuid: patient, data });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().size).toBe(LIMIT);
  });

  it('refuses a larger file with 413 and keeps neither a row nor a stored or temporary file', async () => {
    const storedBefore = await walk(filesRoot(app));
    const patient = await createPatient(app, org.doctor);
    const data = Buffer.concat([pdfBytes(1), Buffer.alloc(LIMIT + 30 * 1024, 0x20)]);
    const res = await upload(app, org.doctor, { ownerUuid: patient, data });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      success: false,
      message: 'Le fichier dépasse la taille maximale autorisée.',
      error: 'Le fichier dépasse la taille maximale autorisée.',
    });
    expect(await fileRows(patient)).toEqual([]);
    expect(await walk(filesRoot(app))).toEqual(storedBefore);
    expect(await walk(path.join(filesRoot(app), 'tmp'))).toEqual([]);
  });
});

describe('aborted uploads', () => {
  let app: App;
  let org: TenantFixture;
  beforeAll(async () => {
    app = await buildTestApp();
    org = await createOrganization(app, 'Cabinet Coupé');
  });
  afterAll(() => app.close());

  /** A multipart body cut in the middle of its file part, ending with `finish` (an error or a plain end). */
  function cutBody(ownerUuid: string, finish: 'error' | 'end') {
    const form = multipart({
      owner_type: 'patient',
      owner_uuid: ownerUuid,
      file: { filename: 'coupé.pdf', contentType: 'application/pdf', data: pdfBytes(40) },
    });
    const half = form.payload.subarray(0, Math.floor(form.payload.length / 2));
    const stream = new Readable({ read() {} });
    stream.push(half);
    setTimeout(() => {
      if (finish === 'error') stream.destroy(new Error('client went away'));
      else stream.push(null);
    }, 50);
    return { headers: form.headers, payload: stream };
  }

  /** The response, or undefined when the server has not answered within `ms`. */
  async function within(ms: number, request: Promise<LightMyRequestResponse>) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([request, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** What `dir` holds once it has stopped changing (cleanup after an abort may take a moment). */
  async function settledListing(dir: string, ms = 1000): Promise<string[]> {
    let listing = await walk(dir);
    for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await walk(dir);
      if (next.join() === listing.join()) return next;
      listing = next;
    }
    return listing;
  }

  const cutUpload = (ownerUuid: string, finish: 'error' | 'end') => {
    const body = cutBody(ownerUuid, finish);
    return app.inject({
      method: 'POST',
      url: '/api/files',
      headers: { ...org.doctor.headers, ...body.headers },
      payload: body.payload,
    });
  };

  it('answers 400 to a body that ends in the middle of the file, and keeps nothing', async () => {
    const patient = await createPatient(app, org.doctor);
    const before = await walk(filesRoot(app));
    const res = await within(5000, cutUpload(patient, 'end'));
    // Soft, so that the state left behind is reported too when the server never answers.
    expect.soft(res?.statusCode, 'status (undefined: no answer within 5 s)').toBe(400);
    expect.soft(res?.json()).toMatchObject({ success: false });
    expect.soft(await fileRows(patient)).toEqual([]);
    expect(await settledListing(filesRoot(app))).toEqual(before);
  });

  it('keeps nothing when the client goes away in the middle of the file', async () => {
    const patient = await createPatient(app, org.doctor);
    const before = await walk(filesRoot(app));
    // The client is gone: there is nobody to answer, inject reports the client's own error.
    await expect(cutUpload(patient, 'error')).rejects.toThrow('client went away');
    expect.soft(await fileRows(patient)).toEqual([]);
    expect(await settledListing(filesRoot(app))).toEqual(before);
  });
});

describe('rate limit', () => {
  let app: App;
  let org: TenantFixture;
  beforeAll(async () => {
    app = await buildTestApp({ config: { rateLimits: true } });
    org = await createOrganization(app, 'Cabinet Pressé');
  });
  afterAll(() => app.close());

  it('allows 20 uploads an hour per user, then answers 429 with Retry-After', async () => {
    const patient = await createPatient(app, org.doctor);
    for (let i = 1; i <= 20; i++) {
      const res = await upload(app, org.doctor, { ownerUuid: patient, filename: `page-${i}.pdf`, data: pdfBytes(1) });
      expect(res.statusCode, `upload ${i}: ${res.body}`).toBe(201);
    }
    const refused = await upload(app, org.doctor, { ownerUuid: patient, filename: 'page-21.pdf', data: pdfBytes(1) });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ success: false, message: expect.stringContaining('Trop de requêtes') });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await fileRows(patient)).toHaveLength(20);

    // Per user: the owner of the same organization still uploads.
    const other = await upload(app, org.owner, { ownerUuid: patient, filename: 'page-21.pdf', data: pdfBytes(1) });
    expect(other.statusCode, other.body).toBe(201);
  });
});

describe('downloads over a real socket', () => {
  const logLines: Array<Record<string, unknown>> = [];
  let app: App;
  let org: TenantFixture;
  let url: string;
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    app = await buildTestApp({ logger: createLogger('info', stream) });
    org = await createOrganization(app, 'Cabinet Réseau');
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  /** GET the file like a client that hangs up as soon as it holds `content-length` bytes. */
  function download(uuid: string): Promise<number> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `GET /api/files/${uuid} HTTP/1.1\r\nHost: x\r\nAuthorization: ${org.doctor.headers.authorization}\r\n\r\n`,
        ),
      );
      // Headers are gathered until their end; body bytes are only counted (gathering 4 MiB a chunk
      // at a time, 40 times, cost the suite ~15 s of CPU).
      let head = Buffer.alloc(0);
      let length = -1;
      let body = 0;
      socket.on('data', (chunk: Buffer) => {
        if (length < 0) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          length = Number(/content-length: (\d+)/i.exec(head.subarray(0, end).toString())?.[1]);
          body = head.length - end - 4;
        } else body += chunk.length;
        if (body >= length) {
          socket.destroy();
          resolve(length);
        }
      });
      socket.on('error', reject);
    });
  }

  it('does not log a complete download as a premature close', async () => {
    const patient = await createPatient(app, org.doctor);
    const data = pdfBytes(512); // several reads of the file, then the one that finds its end
    const res = await upload(app, org.doctor, { ownerUuid: patient, data });
    expect(res.statusCode).toBe(201);
    for (let i = 0; i < 40; i++) expect(await download(res.json().uuid)).toBe(data.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(logLines.filter((l) => l.msg === 'stream closed prematurely')).toEqual([]);
  });
});
