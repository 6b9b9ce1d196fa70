import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMedReportClient, formData, type MedReportClient, MedReportSync } from '../../sdk/src/index.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

// The Flutter apps' flows, driven through the generated SDK only, against the real server
// listening on a port: what a client generated from openapi.json can do, type-checked.

let app: App;
let baseUrl: string;
beforeAll(async () => {
  app = await buildTestApp();
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(() => app.close());

const account = (name: string) => ({
  name,
  email: uniqueEmail('sdk'),
  password: 'a long passphrase',
  password_confirmation: 'a long passphrase',
});

describe('MedReport through the SDK', () => {
  let owner: MedReportClient;
  let doctor: MedReportClient;

  it('register-owner, then a doctor joins with the organization code', async () => {
    owner = createMedReportClient({ baseUrl });
    const created = await owner.api.POST('/api/register-owner', {
      body: { ...account('Dr Owner'), organization_name: 'Clinique SDK' },
    });
    expect(created.response.status).toBe(201);
    expect(owner.token.get()).toBe(created.data!.token);

    const organization = await owner.api.GET('/api/organization');
    expect(organization.data!.organization.name).toBe('Clinique SDK');

    doctor = createMedReportClient({ baseUrl });
    const joined = await doctor.api.POST('/api/register-doctor', {
      body: { ...account('Dr Doctor'), organization_code: organization.data!.organization.code },
    });
    expect(joined.response.status).toBe(201);
    expect(joined.data!.user).toMatchObject({ role: 'doctor', organization_id: organization.data!.organization.id });
    const me = await doctor.api.GET('/api/user');
    expect(me.data!.email).toBe(joined.data!.user.email);
  });

  let patient: string;
  let prescription: string;

  it('a patient, a prescription, and its file uploaded and linked', async () => {
    const created = await doctor.api.POST('/api/patients', {
      body: { name: 'Awa Ndiaye', birth_date: '1980-03-04', gender: 'female' },
    });
    expect(created.response.status).toBe(201);
    patient = created.data!.uuid;

    const rx = await doctor.api.POST('/api/prescriptions', {
      body: { patient_uuid: patient, medication: 'Paracétamol 500 mg', dosage: '3x/jour', validity_period: 30 },
    });
    expect(rx.response.status).toBe(201);
    prescription = rx.data!.uuid;

    const pdf = new Blob(['%PDF-1.4\n% ordonnance\n'], { type: 'application/pdf' });
    const upload = await doctor.api.POST('/api/files', {
      body: { file: pdf, owner_type: 'prescription', owner_uuid: prescription },
      bodySerializer: formData,
    });
    expect(upload.response.status, JSON.stringify(upload.error)).toBe(201);
    expect(upload.data!).toMatchObject({
      owner_type: 'prescription',
      owner_uuid: prescription,
      mime_type: 'application/pdf',
    });

    const linked = await doctor.api.PATCH('/api/prescriptions/{uuid}', {
      params: { path: { uuid: prescription } },
      body: { file_uuid: upload.data!.uuid },
    });
    expect(linked.data!.file_uuid).toBe(upload.data!.uuid);

    const download = await doctor.api.GET('/api/files/{uuid}', {
      params: { path: { uuid: upload.data!.uuid } },
      parseAs: 'text',
    });
    expect(download.data).toBe('%PDF-1.4\n% ordonnance\n');
  });

  it('sync: a second device pushes offline records, the first pulls them with its stored cursor', async () => {
    const tablet = new MedReportSync(doctor, `tablet-${randomUUID()}`);
    const first = await tablet.pull();
    expect(first.resynced).toBe(false);
    expect(first.changes.patients?.map((c) => c.uuid)).toContain(patient);
    const cursor = tablet.cursor.get();
    expect(cursor).toEqual(expect.any(String));

    const phone = new MedReportSync(owner, `phone-${randomUUID()}`);
    await phone.pull();
    const offline = randomUUID();
    const pushed = await phone.push({
      patients: [{ uuid: offline, name: 'Créé hors ligne', updated_at: new Date().toISOString() }],
    });
    expect(pushed.results.patients).toEqual([expect.objectContaining({ uuid: offline, status: 'ok' })]);
    expect(pushed.errors).toEqual([]);

    const next = await tablet.pull();
    expect(next.changes.patients).toEqual([
      expect.objectContaining({
        uuid: offline,
        action: 'upsert',
        data: expect.objectContaining({ name: 'Créé hors ligne' }),
      }),
    ]);
    expect(tablet.cursor.get()).not.toBe(cursor);
    // Nothing new: an empty pull keeps the device where it is.
    expect((await tablet.pull()).changes.patients ?? []).toEqual([]);
  });

  it('exports the patients as CSV', async () => {
    const csv = await doctor.api.GET('/api/patients/export', { params: { query: { format: 'csv' } }, parseAs: 'text' });
    expect(csv.response.status).toBe(200);
    expect(csv.response.headers.get('content-type')).toContain('text/csv');
    expect(csv.data).toContain('Awa Ndiaye');
    expect(csv.data).toContain('Créé hors ligne');
  });

  it('answers errors in MedReport’s shape, typed, and logout forgets the token', async () => {
    const invalid = await doctor.api.POST('/api/patients', { body: { name: '' } });
    expect(invalid.response.status).toBe(422);
    expect(invalid.error).toMatchObject({ success: false, errors: { name: expect.any(Array) } });

    const out = await doctor.api.POST('/api/logout');
    expect(out.response.status).toBe(200);
    expect(doctor.token.get()).toBeUndefined();
    expect((await doctor.api.GET('/api/user')).response.status).toBe(401);
  });
});
