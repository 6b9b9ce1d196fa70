import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type FilePart, multipart } from '../helpers/multipart.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';

// The three 500s the outside review found (issue 21, item 5): an owner_type named after a member
// of Object.prototype, a file part without a name, and a pushed item nested 10 000 levels deep.
// The route-table suite (tests/hostile-input.test.ts) sends the same shapes to every route.

let app: App;
let fx: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  fx = await createOrganization(app, 'Prototype');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const PDF: FilePart = { filename: 'scan.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n% scan\n') };

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

function upload(fields: Record<string, string | FilePart>) {
  const form = multipart(fields);
  return app.inject({
    method: 'POST',
    url: '/api/files',
    headers: { ...fx.doctor.headers, ...form.headers },
    payload: form.payload,
  });
}

async function filesOf(ownerUuid: string): Promise<unknown[]> {
  const { rows } = await owner.pool.query('select uuid from medreport.files where owner_uuid = $1', [ownerUuid]);
  return rows;
}

/** `depth` arrays inside each other, as JSON text: `[[[...]]]`. */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** `depth` objects inside each other, as JSON text: `{"a":{"a":...}}`. */
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('issue 21 item 5: prototype names, nameless files and deep nesting answer 4xx, never 500', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses owner_type %s with 422 on owner_type, and stores nothing',
    async (ownerType) => {
      const ownerUuid = await patient();
      const res = await upload({ owner_type: ownerType, owner_uuid: ownerUuid, file: PDF });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json()).toMatchObject({
        success: false,
        errors: { owner_type: ['Le champ owner_type doit valoir patient, prescription ou invoice.'] },
      });
      expect(await filesOf(ownerUuid)).toEqual([]);
    },
  );

  it.each([
    ['an empty filename', { ...PDF, filename: '' }],
    ['no filename at all', { ...PDF, filename: undefined, contentType: 'application/octet-stream' }],
  ] as const)('refuses a file part with %s with 422 on file, and stores nothing', async (_label, file) => {
    const ownerUuid = await patient();
    const res = await upload({ owner_type: 'patient', owner_uuid: ownerUuid, file });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ success: false, errors: { file: [expect.stringContaining('nom')] } });
    expect(await filesOf(ownerUuid)).toEqual([]);
  });

  it.each([
    ['10 000 nested arrays', nestedArrays(10_000)],
    ['10 000 nested objects', nestedObjects(10_000)],
  ])('refuses a pushed item holding %s with 422 naming the field, and applies nothing', async (_label, deep) => {
    const uuid = randomUUID();
    const item = `{"uuid":"${uuid}","name":"Profond","notes":${deep},"updated_at":"${new Date().toISOString()}"}`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/sync/batch',
      headers: { ...fx.doctor.headers, 'content-type': 'application/json' },
      payload: `{"patients":[${item}]}`,
    });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(422);
    const body = res.json();
    expect(body).toMatchObject({ success: false, message: expect.stringContaining('trop imbriqué') });
    expect(Object.keys(body.errors)).toEqual([expect.stringMatching(/^patients\.0\.notes\./)]);
    const { rows } = await owner.pool.query('select uuid from medreport.patients where uuid = $1', [uuid]);
    expect(rows).toEqual([]);
  });

  it('reads a JSON body with __proto__, constructor and prototype keys as if they were absent', async () => {
    // Raw text: JSON.parse makes `__proto__` a real own key, as any HTTP client can send it.
    const res = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: { ...fx.doctor.headers, 'content-type': 'application/json' },
      payload:
        '{"__proto__":{"notes":"pollué"},"constructor":{"prototype":{"notes":"pollué"}},"prototype":{"notes":"pollué"},"name":"Awa"}',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Awa', notes: null });
    const { rows } = await owner.pool.query('select name, notes from medreport.patients where uuid = $1', [
      res.json().uuid,
    ]);
    expect(rows).toEqual([{ name: 'Awa', notes: null }]);
  });

  it('still applies an item nested as deep as a real one', async () => {
    const uuid = randomUUID();
    const res = await app.inject({
      method: 'POST',
      url: '/api/sync/batch',
      headers: fx.doctor.headers,
      payload: { patients: [{ uuid, name: 'Normal', updated_at: new Date().toISOString() }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results.patients).toEqual([expect.objectContaining({ uuid, status: 'ok' })]);
  });
});
