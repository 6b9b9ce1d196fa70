import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument, OpenApiOperation } from '../../plugins/openapi-contract.js';
import { OPENAPI_FILE } from '../../scripts/openapi.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { multipart } from '../helpers/multipart.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';

// Where a file lies in storage (`org_{id}/YYYY/MM/{uuid}`) is the server's business: it
// told every client the organization's internal id and the storage layout (issue 21, item 10b).
// The column stays; no answer shows it.

/** A file resource as an answer shows it. */
type FileResource = { uuid: string; [key: string]: unknown };
/** A page of GET /api/sync/changes. */
type SyncPage = {
  cursor: string;
  has_more: boolean;
  changes: Record<string, Array<{ uuid: string; data: FileResource | null }>>;
};

let app: App;
let fx: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  fx = await createOrganization(app, 'Chemins');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

/** What a file resource shows, and nothing else. */
const FILE_KEYS = [
  'checksum',
  'created_at',
  'file_version',
  'mime_type',
  'original_name',
  'owner_type',
  'owner_uuid',
  'size',
  'uuid',
];

/** The operations whose answers hold a file resource, each checked below. */
const ROUTES_WITH_FILES = ['GET /api/sync/changes', 'POST /api/files', 'POST /api/sync/batch'];

async function patient(): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/patients',
    headers: fx.doctor.headers,
    payload: { name: 'Awa' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().uuid;
}

async function upload(): Promise<FileResource> {
  const form = multipart({
    owner_type: 'patient',
    owner_uuid: await patient(),
    file: { filename: 'scan.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n% scan\n') },
  });
  const res = await app.inject({
    method: 'POST',
    url: '/api/files',
    headers: { ...fx.doctor.headers, ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function pull(since?: string): Promise<SyncPage> {
  const query = since ? `?since=${encodeURIComponent(since)}` : '';
  const res = await app.inject({ method: 'GET', url: `/api/sync/changes${query}`, headers: fx.doctor.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const fileData = (page: SyncPage, uuid: string) =>
  page.changes.files!.find((change) => change.uuid === uuid)?.data as FileResource;

/** `shown` is the file resource as REST answers it, and shows no more than FILE_KEYS. */
function expectFileResource(shown: FileResource, file: FileResource) {
  expect(Object.keys(shown).sort()).toEqual(FILE_KEYS);
  expect(shown).toEqual(file);
}

/** Every operation of the OpenAPI document whose answers reach the File schema, through any component. */
function operationsShowingFiles(document: OpenApiDocument): string[] {
  const reaches = (node: unknown, seen: Set<string>): boolean => {
    if (!node || typeof node !== 'object') return false;
    const ref = (node as { $ref?: string }).$ref;
    if (ref) {
      const name = ref.split('/').pop()!;
      if (name === 'File') return true;
      if (seen.has(name)) return false;
      seen.add(name);
      return reaches(document.components.schemas![name], seen);
    }
    return Object.values(node).some((child) => reaches(child, seen));
  };
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      (Object.entries(item) as Array<[string, OpenApiOperation]>)
        .filter(([, operation]) => reaches(operation.responses, new Set()))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    )
    .sort();
}

describe('issue 21 item 10b: no answer shows where a file is stored', () => {
  it('leaves `path` out of the File schema, and knows every operation that answers with one', async () => {
    for (const document of [
      app.swagger() as OpenApiDocument,
      JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as OpenApiDocument,
    ]) {
      expect(Object.keys(document.components.schemas!.File!.properties!).sort()).toEqual(FILE_KEYS);
      expect(operationsShowingFiles(document)).toEqual(ROUTES_WITH_FILES);
    }
  });

  it('POST /api/files answers the resource without its path, and the row keeps it', async () => {
    const file = await upload();
    expect(Object.keys(file).sort()).toEqual(FILE_KEYS);
    expect(file).not.toHaveProperty('path');
    const { rows } = await owner.pool.query('select path from medreport.files where uuid = $1', [file.uuid]);
    expect(rows[0].path).toMatch(new RegExp(`^org_${fx.organization.id}/\\d{4}/\\d{2}/${file.uuid}$`));
  });

  it('GET /api/sync/changes shows files without their path, in a snapshot and from the feed', async () => {
    const first = await upload();
    const snapshot = await pull();
    expect(snapshot.has_more).toBe(false);
    expectFileResource(fileData(snapshot, first.uuid), first);

    const second = await upload();
    const feed = await pull(snapshot.cursor);
    expectFileResource(fileData(feed, second.uuid), second);
  });

  it('GET /api/sync/changes leaves out the path of feed entries written before it was dropped', async () => {
    const file = await upload();
    const { cursor } = await pull();
    // An entry as the feed recorded files until now: the resource with its path.
    const stored = { ...file, path: `org_${fx.organization.id}/2025/01/${file.uuid}.pdf` };
    await owner.pool.query(
      `insert into medreport.changes (organization_id, entity, uuid, action, data) values ($1, 'files', $2, 'upsert', $3)`,
      [fx.organization.id, file.uuid, JSON.stringify(stored)],
    );
    const page = await pull(cursor);
    expectFileResource(fileData(page, file.uuid), file);
  });

  it('POST /api/sync/batch answers a conflict on a file with the resource, without its path', async () => {
    const file = await upload();
    const res = await app.inject({
      method: 'POST',
      url: '/api/sync/batch',
      headers: fx.doctor.headers,
      payload: { files: [{ uuid: file.uuid, deleted: true, updated_at: '2001-01-01T00:00:00Z' }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const [result] = res.json().results.files;
    expect(result).toMatchObject({ uuid: file.uuid, status: 'conflict' });
    expectFileResource(result.data, file);
  });
});
