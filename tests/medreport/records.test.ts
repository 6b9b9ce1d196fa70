import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { whileDeletionHeld } from '../helpers/held-deletion.js';
import { createOrganization, expectIsolation, type Member, type TenantFixture } from '../helpers/tenants.js';
import { bearer, registerUser } from '../helpers/users.js';

let app: App;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  app = await buildTestApp();
  a = await createOrganization(app, 'A');
  b = await createOrganization(app, 'B');
});
afterAll(() => app.close());

async function create(member: Member, plural: string, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: `/api/${plural}`, headers: member.headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const newPatient = (member: Member, payload: Record<string, unknown> = {}) =>
  create(member, 'patients', { name: 'Jean Dupont', ...payload });

describe('patients', () => {
  it('creates a patient with every clinic field and reads it back', async () => {
    const payload = {
      name: 'Awa Ndiaye',
      birth_date: '1980-03-04',
      gender: 'female',
      phone: '+221770000000',
      email: 'awa@example.com',
      address: 'Dakar',
      blood_group: 'O+',
      allergies: 'Pénicilline',
      notes: 'Diabète de type 2',
    };
    const created = await newPatient(a.doctor, payload);
    expect(created).toMatchObject({ ...payload, uuid: expect.any(String), created_by: a.doctor.user.id });
    // Exactly the resource: server-side columns never leave (the response schema serializes).
    expect(Object.keys(created).sort()).toEqual(
      [...Object.keys(payload), 'uuid', 'created_by', 'created_at', 'updated_at'].sort(),
    );
    const res = await app.inject({ method: 'GET', url: `/api/patients/${created.uuid}`, headers: a.owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
  });

  it('refuses invalid input with 422 per field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { gender: 'x', blood_group: 'Z', email: 'nope', birth_date: '2999-01-01' },
    });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors).sort()).toEqual(['blood_group', 'email', 'gender', 'name']);
    const future = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'Futur', birth_date: '2999-01-01' },
    });
    expect(future.statusCode).toBe(422);
    expect(future.json().errors).toHaveProperty('birth_date');
  });

  it('says what is wrong with an optional field that may be cleared, not that it must be empty', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'Awa', birth_date: '04/03/1980', email: 42 },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual({
      birth_date: ['Le champ birth_date doit être une date valide (AAAA-MM-JJ).'],
      email: ['Le champ email doit être une chaîne de caractères.'],
    });
  });

  it('answers 404 to an unknown uuid and 422 to a malformed one', async () => {
    const unknown = randomUUID();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: `/api/patients/${unknown}`,
        headers: a.doctor.headers,
        ...(method === 'PATCH' ? { payload: { name: 'X' } } : {}),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, message: 'Patient introuvable.' });
    }
    expect(
      (await app.inject({ method: 'GET', url: '/api/patients/not-a-uuid', headers: a.doctor.headers })).statusCode,
    ).toBe(422);
  });

  it('PATCH changes only the given fields, and null clears one', async () => {
    const created = await newPatient(a.doctor, { phone: '+1', notes: 'keep' });
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/patients/${created.uuid}`,
      headers: a.owner.headers,
      payload: { name: 'Jean-Pierre Dupont', phone: null },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Jean-Pierre Dupont', phone: null, notes: 'keep' });
    expect(res.json().updated_at > created.updated_at).toBe(true);
    const empty = await app.inject({
      method: 'PATCH',
      url: `/api/patients/${created.uuid}`,
      headers: a.owner.headers,
      payload: {},
    });
    expect(empty.statusCode).toBe(422);
  });

  it('deletes softly: the row disappears from reads and lists', async () => {
    const created = await newPatient(a.doctor, { name: 'To Be Deleted' });
    const del = await app.inject({ method: 'DELETE', url: `/api/patients/${created.uuid}`, headers: a.doctor.headers });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ success: true, message: 'Patient supprimé.' });
    expect(
      (await app.inject({ method: 'GET', url: `/api/patients/${created.uuid}`, headers: a.doctor.headers })).statusCode,
    ).toBe(404);
    const list = await app.inject({
      method: 'GET',
      url: '/api/patients?search=To%20Be%20Deleted',
      headers: a.doctor.headers,
    });
    expect(list.json()).toMatchObject({ data: [], total: 0 });
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/patients/${created.uuid}`, headers: a.doctor.headers }))
        .statusCode,
    ).toBe(404);
  });

  it('accepts a client uuid: the same create again is a 200 replay, different content a 409', async () => {
    const uuid = randomUUID();
    const payload = { uuid, name: 'Offline Patient', phone: '+237' };
    const first = await app.inject({ method: 'POST', url: '/api/patients', headers: a.doctor.headers, payload });
    expect(first.statusCode).toBe(201);
    expect(first.json().uuid).toBe(uuid);
    const replay = await app.inject({ method: 'POST', url: '/api/patients', headers: a.doctor.headers, payload });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(first.json());
    const clash = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { ...payload, name: 'Someone Else' },
    });
    expect(clash.statusCode).toBe(409);
    // The same uuid in another organization is another record.
    const elsewhere = await app.inject({ method: 'POST', url: '/api/patients', headers: b.doctor.headers, payload });
    expect(elsewhere.statusCode).toBe(201);
  });

  it('lists with pagination, search on name/phone/e-mail and sort', async () => {
    const org = await createOrganization(app, 'Lists');
    const names = ['Zoé Martin', 'Adam Martin', 'Chloé Bernard', 'Louis Petit'];
    for (const [i, name] of names.entries()) {
      await newPatient(org.doctor, { name, phone: `+33 6 00 00 0${i}`, email: `p${i}@clinic.test` });
    }
    const get = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/api/patients?${query}`, headers: org.owner.headers })).json();

    const page1 = await get('limit=3&page=1&sort=name');
    expect(page1).toMatchObject({ total: 4, page: 1, limit: 3 });
    expect(page1.data.map((p: { name: string }) => p.name)).toEqual(['Adam Martin', 'Chloé Bernard', 'Louis Petit']);
    const page2 = await get('limit=3&page=2&sort=name');
    expect(page2.data.map((p: { name: string }) => p.name)).toEqual(['Zoé Martin']);
    expect((await get('sort=-name')).data[0].name).toBe('Zoé Martin');
    expect((await get('')).data[0].name).toBe('Louis Petit'); // newest first by default

    expect((await get('search=martin')).total).toBe(2);
    expect((await get('search=00%2000%2002')).data.map((p: { name: string }) => p.name)).toEqual(['Chloé Bernard']);
    expect((await get('search=p3%40clinic')).data.map((p: { name: string }) => p.name)).toEqual(['Louis Petit']);
    expect((await get('search=%25')).total).toBe(0); // % is a character, not a wildcard

    for (const bad of ['limit=101', 'limit=0', 'page=0', 'sort=password']) {
      const res = await app.inject({ method: 'GET', url: `/api/patients?${bad}`, headers: org.owner.headers });
      expect(res.statusCode, bad).toBe(422);
    }
  });
});

describe('prescriptions', () => {
  it('creates one with the spec’s fields; the doctor defaults to the caller', async () => {
    const patient = await newPatient(a.doctor);
    const created = await create(a.doctor, 'prescriptions', {
      patient_uuid: patient.uuid,
      medication: 'Paracetamol 500mg',
      dosage: '3x/jour',
      duration: '7 jours',
      notes: 'Après repas',
      validity_period: 30,
      date_issued: '2025-01-02',
    });
    expect(created).toMatchObject({
      patient_uuid: patient.uuid,
      doctor_uuid: a.doctor.user.uuid,
      medication: 'Paracetamol 500mg',
      dosage: '3x/jour',
      duration: '7 jours',
      notes: 'Après repas',
      validity_period: 30,
      file_uuid: null,
      date_issued: '2025-01-02',
    });
    const other = await create(a.owner, 'prescriptions', {
      patient_uuid: patient.uuid,
      medication: 'Ibuprofène',
      doctor_uuid: a.doctor.user.uuid,
    });
    expect(other.doctor_uuid).toBe(a.doctor.user.uuid);
    expect(other.date_issued).toBe(new Date().toISOString().slice(0, 10));
  });

  it('refuses a patient, doctor or file from another organization with 422', async () => {
    const mine = await newPatient(a.doctor);
    const theirs = await newPatient(b.doctor);
    const attempt = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/api/prescriptions', headers: a.doctor.headers, payload });

    const foreignPatient = await attempt({ patient_uuid: theirs.uuid, medication: 'X' });
    expect(foreignPatient.statusCode).toBe(422);
    expect(foreignPatient.json().errors).toEqual({ patient_uuid: ['Patient introuvable dans votre organisation.'] });
    const foreignDoctor = await attempt({ patient_uuid: mine.uuid, medication: 'X', doctor_uuid: b.doctor.user.uuid });
    expect(foreignDoctor.json().errors).toHaveProperty('doctor_uuid');
    const loner = await registerUser(app);
    const outsider = await attempt({ patient_uuid: mine.uuid, medication: 'X', doctor_uuid: loner.user.uuid });
    expect(outsider.statusCode).toBe(422);
    const unknownFile = await attempt({ patient_uuid: mine.uuid, medication: 'X', file_uuid: randomUUID() });
    expect(unknownFile.json().errors).toHaveProperty('file_uuid');
    expect((await attempt({ medication: 'X' })).statusCode).toBe(422);
  });

  it('filters a list by patient', async () => {
    const first = await newPatient(a.doctor);
    const second = await newPatient(a.doctor);
    await create(a.doctor, 'prescriptions', { patient_uuid: first.uuid, medication: 'A' });
    await create(a.doctor, 'prescriptions', { patient_uuid: first.uuid, medication: 'B' });
    await create(a.doctor, 'prescriptions', { patient_uuid: second.uuid, medication: 'C' });
    const res = await app.inject({
      method: 'GET',
      url: `/api/prescriptions?patient_uuid=${first.uuid}&sort=medication`,
      headers: a.doctor.headers,
    });
    expect(res.json().data.map((p: { medication: string }) => p.medication)).toEqual(['A', 'B']);
    expect(res.json().total).toBe(2);
  });

  it('lists each record exactly as its own read answers it, timestamps included', async () => {
    const patient = await newPatient(a.doctor, { name: 'Patiente Listée', birth_date: '1990-04-05', notes: 'Liste' });
    await create(a.doctor, 'prescriptions', { patient_uuid: patient.uuid, medication: 'Listée' });
    await create(a.doctor, 'invoices', {
      patient_uuid: patient.uuid,
      designation: 'Listée',
      unit_price: 1500,
      quantity: 2,
    });
    for (const [plural, filter] of [
      ['patients', 'search=Patiente%20List'],
      ['prescriptions', `patient_uuid=${patient.uuid}`],
      ['invoices', `patient_uuid=${patient.uuid}`],
    ]) {
      const list = await app.inject({ method: 'GET', url: `/api/${plural}?${filter}`, headers: a.doctor.headers });
      expect(list.statusCode, plural).toBe(200);
      const listed = list.json().data as Array<{ uuid: string; created_at: string }>;
      expect(listed.length, plural).toBeGreaterThan(0);
      for (const item of listed) {
        expect(item.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const read = await app.inject({ method: 'GET', url: `/api/${plural}/${item.uuid}`, headers: a.doctor.headers });
        expect(item, plural).toEqual(read.json());
      }
    }
    // The read (timestamps formatted by PostgreSQL) answers what the create answered (formatted in node).
    const read = await app.inject({ method: 'GET', url: `/api/patients/${patient.uuid}`, headers: a.doctor.headers });
    expect(read.json()).toEqual(patient);
  });

  it('PATCH re-checks a new patient reference', async () => {
    const patient = await newPatient(a.doctor);
    const p = await create(a.doctor, 'prescriptions', { patient_uuid: patient.uuid, medication: 'A' });
    const foreign = await newPatient(b.doctor);
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/prescriptions/${p.uuid}`,
      headers: a.doctor.headers,
      payload: { patient_uuid: foreign.uuid },
    });
    expect(res.statusCode).toBe(422);
    const ok = await app.inject({
      method: 'PATCH',
      url: `/api/prescriptions/${p.uuid}`,
      headers: a.doctor.headers,
      payload: { dosage: '1x/jour' },
    });
    expect(ok.json()).toMatchObject({ dosage: '1x/jour', doctor_uuid: a.doctor.user.uuid, patient_uuid: patient.uuid });
  });

  it('refuses a patient deleted while the create waited for the organization’s lock', async () => {
    const patient = await newPatient(a.doctor);
    const res = await whileDeletionHeld(app, a, patient.uuid, () =>
      app.inject({
        method: 'POST',
        url: '/api/prescriptions',
        headers: a.doctor.headers,
        payload: { patient_uuid: patient.uuid, medication: 'Trop tard' },
      }),
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toHaveProperty('patient_uuid');
  });
});

describe('invoices', () => {
  it('computes total_amount itself, whatever the client sends', async () => {
    const patient = await newPatient(a.doctor);
    const created = await create(a.doctor, 'invoices', {
      patient_uuid: patient.uuid,
      designation: 'Consultation',
      unit_price: 15000,
      quantity: 2,
      total_amount: 1,
      date_issued: '2025-01-02',
    });
    expect(created).toMatchObject({ designation: 'Consultation', unit_price: 15000, quantity: 2, total_amount: 30000 });
    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/invoices/${created.uuid}`,
      headers: a.doctor.headers,
      payload: { quantity: 3 },
    });
    expect(patched.json()).toMatchObject({ unit_price: 15000, quantity: 3, total_amount: 45000 });
  });

  it('refuses amounts that are not whole minor units or out of range', async () => {
    const patient = await newPatient(a.doctor);
    for (const bad of [{ unit_price: 10.5 }, { unit_price: -1 }, { quantity: 0 }, { unit_price: 1e12 }]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/invoices',
        headers: a.doctor.headers,
        payload: { patient_uuid: patient.uuid, designation: 'X', unit_price: 100, quantity: 1, ...bad },
      });
      expect(res.statusCode, JSON.stringify(bad)).toBe(422);
    }
  });

  it('replays an offline create idempotently', async () => {
    const patient = await newPatient(a.doctor);
    const payload = {
      uuid: randomUUID(),
      patient_uuid: patient.uuid,
      designation: 'Radio',
      unit_price: 5000,
      quantity: 1,
    };
    const first = await app.inject({ method: 'POST', url: '/api/invoices', headers: a.doctor.headers, payload });
    const again = await app.inject({ method: 'POST', url: '/api/invoices', headers: a.doctor.headers, payload });
    expect([first.statusCode, again.statusCode]).toEqual([201, 200]);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/invoices',
      headers: a.doctor.headers,
      payload: { ...payload, quantity: 2 },
    });
    expect(changed.statusCode).toBe(409);
  });
});

describe('the activity log', () => {
  it('records every create, update and delete with who, what and when', async () => {
    const org = await createOrganization(app, 'Audit');
    const patient = await newPatient(org.doctor, { name: 'Audité' });
    await app.inject({
      method: 'PATCH',
      url: `/api/patients/${patient.uuid}`,
      headers: org.owner.headers,
      payload: { notes: 'x' },
    });
    const rx = await create(org.doctor, 'prescriptions', { patient_uuid: patient.uuid, medication: 'Amoxicilline' });
    const inv = await create(org.owner, 'invoices', {
      patient_uuid: patient.uuid,
      designation: 'Visite',
      unit_price: 1,
      quantity: 1,
    });
    await app.inject({ method: 'DELETE', url: `/api/invoices/${inv.uuid}`, headers: org.owner.headers });
    await app.inject({ method: 'DELETE', url: `/api/prescriptions/${rx.uuid}`, headers: org.doctor.headers });

    const res = await app.inject({ method: 'GET', url: '/api/activity-log?limit=100', headers: org.owner.headers });
    expect(res.statusCode).toBe(200);
    const { data, total, page, limit } = res.json();
    expect({ total, page, limit }).toEqual({ total: 6, page: 1, limit: 100 });
    expect(data.map((e: { action: string }) => e.action)).toEqual([
      'prescription.deleted',
      'invoice.deleted',
      'invoice.created',
      'prescription.created',
      'patient.updated',
      'patient.created',
    ]);
    expect(data.at(-1)).toEqual({
      id: expect.any(Number),
      timestamp: expect.any(String),
      user_id: org.doctor.user.id,
      user_name: 'Doctor of Audit',
      action: 'patient.created',
      entity_type: 'patient',
      entity_uuid: patient.uuid,
      entity_name: 'Audité',
    });
  });

  it('filters by date, user, action type, entity type and search, and paginates', async () => {
    const org = await createOrganization(app, 'Filters');
    const p1 = await newPatient(org.doctor, { name: 'Alpha' });
    await newPatient(org.owner, { name: 'Beta' });
    await app.inject({ method: 'DELETE', url: `/api/patients/${p1.uuid}`, headers: org.owner.headers });
    await create(org.doctor, 'invoices', {
      patient_uuid: (await newPatient(org.doctor, { name: 'Gamma' })).uuid,
      designation: 'Soins',
      unit_price: 1,
      quantity: 1,
    });
    const get = async (query: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/activity-log?${query}`, headers: org.doctor.headers });
      expect(res.statusCode, query).toBe(200);
      return res.json();
    };
    expect((await get('')).total).toBe(5);
    expect((await get(`user_id=${org.owner.user.id}`)).data.map((e: { action: string }) => e.action)).toEqual([
      'patient.deleted',
      'patient.created',
    ]);
    expect((await get('action_type=deleted')).total).toBe(1);
    expect((await get('action_type=invoice.created')).total).toBe(1);
    expect((await get('entity_type=invoice')).total).toBe(1);
    expect((await get('search=alph')).total).toBe(2);
    expect((await get('search=Owner%20of')).total).toBe(2); // the user's name counts too
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`from=${today}&to=${today}`)).total).toBe(5);
    expect((await get('to=2000-01-01')).total).toBe(0);
    expect((await get(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).total).toBe(0);
    const paged = await get('limit=2&page=3');
    expect(paged).toMatchObject({ total: 5, page: 3, limit: 2 });
    expect(paged.data).toHaveLength(1);
    // Past the last page there is no row to carry the total: it is still right.
    expect(await get('limit=2&page=9')).toMatchObject({ data: [], total: 5, page: 9 });
    expect(
      (await app.inject({ method: 'GET', url: '/api/activity-log?from=yesterday', headers: org.doctor.headers }))
        .statusCode,
    ).toBe(422);
  });

  it('a failed mutation leaves neither the change nor a log row', async () => {
    const org = await createOrganization(app, 'Atomic');
    const res = await app.inject({
      method: 'POST',
      url: '/api/prescriptions',
      headers: org.doctor.headers,
      payload: { patient_uuid: randomUUID(), medication: 'Nothing' },
    });
    expect(res.statusCode).toBe(422);
    expect(
      (await app.inject({ method: 'GET', url: '/api/activity-log', headers: org.owner.headers })).json().total,
    ).toBe(0);
  });
});

describe('GET /api/reports/overview', () => {
  it('counts live records and shows the 5 most recent patients', async () => {
    const org = await createOrganization(app, 'Overview');
    const patients = [];
    for (let i = 1; i <= 7; i++) patients.push(await newPatient(org.doctor, { name: `Patient ${i}` }));
    await app.inject({ method: 'DELETE', url: `/api/patients/${patients[6]!.uuid}`, headers: org.owner.headers });
    await create(org.doctor, 'prescriptions', { patient_uuid: patients[0]!.uuid, medication: 'A' });
    await create(org.doctor, 'prescriptions', { patient_uuid: patients[1]!.uuid, medication: 'B' });
    await create(org.doctor, 'invoices', {
      patient_uuid: patients[0]!.uuid,
      designation: 'C',
      unit_price: 1,
      quantity: 1,
    });

    const res = await app.inject({ method: 'GET', url: '/api/reports/overview', headers: org.doctor.headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.patients.count).toBe(6);
    expect(body.patients.recent.map((p: { name: string }) => p.name)).toEqual([
      'Patient 6',
      'Patient 5',
      'Patient 4',
      'Patient 3',
      'Patient 2',
    ]);
    expect(body.patients.recent[0]).toEqual({
      uuid: patients[5]!.uuid,
      name: 'Patient 6',
      created_at: patients[5]!.created_at,
    });
    expect(body.prescriptions).toEqual({ count: 2 });
    expect(body.invoices).toEqual({ count: 1 });
  });
});

describe('tenancy of the records', () => {
  it('members without an organization get 403 on every record route', async () => {
    const { token } = await registerUser(app);
    for (const url of [
      '/api/patients',
      '/api/prescriptions',
      '/api/invoices',
      '/api/activity-log',
      '/api/reports/overview',
    ]) {
      const res = await app.inject({ method: 'GET', url, headers: bearer(token) });
      expect(res.statusCode, url).toBe(403);
    }
  });

  const patientIn = async (appInstance: App, member: Member) =>
    (
      await appInstance.inject({
        method: 'POST',
        url: '/api/patients',
        headers: member.headers,
        payload: { name: 'Isolé' },
      })
    ).json().uuid as string;

  it.each([
    {
      name: 'patients',
      create: patientIn,
      byId: [
        { method: 'GET' as const, url: (id: string) => `/api/patients/${id}` },
        { method: 'PATCH' as const, url: (id: string) => `/api/patients/${id}`, payload: { name: 'Hijack' } },
        { method: 'DELETE' as const, url: (id: string) => `/api/patients/${id}` },
      ],
      list: { url: '/api/patients?limit=100', id: (row: Record<string, unknown>) => row.uuid as string },
    },
    {
      name: 'prescriptions',
      create: async (appInstance: App, member: Member) =>
        (
          await appInstance.inject({
            method: 'POST',
            url: '/api/prescriptions',
            headers: member.headers,
            payload: { patient_uuid: await patientIn(appInstance, member), medication: 'Isolée' },
          })
        ).json().uuid as string,
      byId: [
        { method: 'GET' as const, url: (id: string) => `/api/prescriptions/${id}` },
        { method: 'PATCH' as const, url: (id: string) => `/api/prescriptions/${id}`, payload: { dosage: 'x' } },
        { method: 'GET' as const, url: (id: string) => `/api/prescriptions/${id}/pdf` },
        { method: 'DELETE' as const, url: (id: string) => `/api/prescriptions/${id}` },
      ],
      list: { url: '/api/prescriptions?limit=100', id: (row: Record<string, unknown>) => row.uuid as string },
    },
    {
      name: 'invoices',
      create: async (appInstance: App, member: Member) =>
        (
          await appInstance.inject({
            method: 'POST',
            url: '/api/invoices',
            headers: member.headers,
            payload: {
              patient_uuid: await patientIn(appInstance, member),
              designation: 'Isolée',
              unit_price: 1,
              quantity: 1,
            },
          })
        ).json().uuid as string,
      byId: [
        { method: 'GET' as const, url: (id: string) => `/api/invoices/${id}` },
        { method: 'PATCH' as const, url: (id: string) => `/api/invoices/${id}`, payload: { quantity: 9 } },
        { method: 'GET' as const, url: (id: string) => `/api/invoices/${id}/pdf` },
        { method: 'DELETE' as const, url: (id: string) => `/api/invoices/${id}` },
      ],
      list: { url: '/api/invoices?limit=100', id: (row: Record<string, unknown>) => row.uuid as string },
    },
    {
      name: 'activity-log',
      create: async (appInstance: App, member: Member) => {
        const uuid = await patientIn(appInstance, member);
        return uuid;
      },
      byId: [],
      list: { url: '/api/activity-log?limit=100', id: (row: Record<string, unknown>) => row.entity_uuid as string },
    },
  ])('$name: the other organization gets 404 on our identifiers and never sees our rows', async (resource) => {
    const x = await createOrganization(app, `X-${resource.name}`);
    const y = await createOrganization(app, `Y-${resource.name}`);
    await expectIsolation(app, resource, x, y);
  });

  it('overview counts only the caller’s organization', async () => {
    const x = await createOrganization(app, 'X-overview');
    const y = await createOrganization(app, 'Y-overview');
    await patientIn(app, x.doctor);
    const seen = await app.inject({ method: 'GET', url: '/api/reports/overview', headers: y.doctor.headers });
    expect(seen.json()).toEqual({
      patients: { count: 0, recent: [] },
      prescriptions: { count: 0 },
      invoices: { count: 0 },
    });
  });
});
