import { createHash, randomUUID } from 'node:crypto';
import type { Transform } from 'node:stream';
import { PDFParse } from 'pdf-parse';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../db/connection.js';
import { loadInvoice, renderInvoice } from '../../domain/medreport/documents/invoice.js';
import { loadPrescription, renderPrescription } from '../../domain/medreport/documents/prescription.js';
import { groupedCode } from '../../domain/shared/documents/verification-code.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type Member, type TenantFixture } from '../helpers/tenants.js';
import { bearer, createPlatformAdmin, registerUser } from '../helpers/users.js';

const CODE = /^[0-9A-HJKMNP-TV-Z]{20}$/;
const VERIFICATION_KEYS = ['issued_at', 'sha256', 'status', 'type'];

let app: App;
let a: TenantFixture;
let b: TenantFixture;
let owner: DatabaseHandle;

const PATIENT = {
  name: 'Zoé Lefèvre-Cœur',
  birth_date: '1984-02-29',
  gender: 'female',
  address: '12 rue de l’Église, 75004 Paris',
  phone: '+33612345678',
};
const PRESCRIBER = {
  name: 'Dr Hélène Françoise Bœuf',
  speciality: 'Médecine générale',
  medical_order_number: '10003456789',
  phone: '+33145678901',
  address: '3 place de la Bastille, 75011 Paris',
};

beforeAll(async () => {
  app = await buildTestApp();
  a = await createOrganization(app, 'Clinique Sainte-Cécile');
  b = await createOrganization(app, 'Clinique Bêta');
  owner = await testDb();
  const profile = await app.inject({
    method: 'PUT',
    url: '/api/user/profile',
    headers: a.doctor.headers,
    payload: PRESCRIBER,
  });
  expect(profile.statusCode, profile.body).toBe(200);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});
afterEach(() => {
  vi.useRealTimers();
});

async function create(member: Member, plural: string, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: `/api/${plural}`, headers: member.headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const patientOf = (member: Member) => create(member, 'patients', PATIENT);
async function prescriptionOf(member: Member, fields: Record<string, unknown> = {}) {
  const patient = await patientOf(member);
  return create(member, 'prescriptions', {
    patient_uuid: patient.uuid,
    medication: 'Amoxicilline 1 g — boîte de 12',
    dosage: '1 comprimé matin et soir',
    duration: '7 jours',
    notes: 'À prendre au cours du repas ; arrêt en cas d’éruption cutanée.',
    validity_period: 90,
    date_issued: '2026-03-05',
    ...fields,
  });
}
async function invoiceOf(member: Member, fields: Record<string, unknown> = {}) {
  const patient = await patientOf(member);
  return create(member, 'invoices', {
    patient_uuid: patient.uuid,
    designation: 'Consultation spécialisée — échographie',
    unit_price: 123456,
    quantity: 3,
    date_issued: '2026-03-06',
    ...fields,
  });
}

const get = (url: string, headers: Record<string, string> = a.doctor.headers) =>
  app.inject({ method: 'GET', url, headers });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** The text of a PDF, as a reader extracts it (pdf-parse), whitespace runs made single spaces. */
async function textOf(bytes: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return (await parser.getText()).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}
async function bytesOf(stream: Transform): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
let base: string | undefined;
/** The app on a real port, for what app.inject does not do as HTTP does. */
async function listening(): Promise<string> {
  base ??= await app.listen({ port: 0, host: '127.0.0.1' });
  return base;
}
async function verify(code: string) {
  const res = await app.inject({ method: 'GET', url: `/api/verify/${code}` });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.json();
}

describe('GET /api/prescriptions/{uuid}/pdf', () => {
  it('is an ordonnance: practice, prescriber, patient, date, treatment, signature block and the grouped code', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const res = await get(`/api/prescriptions/${prescription.uuid}/pdf`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="ordonnance-2026-03-05.pdf"; filename*=UTF-8\'\'ordonnance-2026-03-05.pdf',
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');

    const text = await textOf(res.rawPayload);
    for (const mention of [
      'Ordonnance',
      'Clinique Sainte-Cécile',
      'Dr Hélène Françoise Bœuf',
      'Médecine générale',
      'N° d’inscription à l’Ordre : 10003456789',
      '3 place de la Bastille, 75011 Paris',
      '+33145678901',
      'Zoé Lefèvre-Cœur',
      'Né(e) le : 29 février 1984',
      'Sexe : féminin',
      'Fait le : 5 mars 2026',
      'Amoxicilline 1 g — boîte de 12',
      'Posologie : 1 comprimé matin et soir',
      'Durée du traitement : 7 jours',
      'Validité de l’ordonnance : 90 jours à compter du 5 mars 2026',
      'À prendre au cours du repas ; arrêt en cas d’éruption cutanée.',
      'Signature du prescripteur',
      'Vérification du document',
      `Code : ${groupedCode(prescription.verification_code)}`,
      `/api/verify/${prescription.verification_code}`,
    ]) {
      expect(text, mention).toContain(mention);
    }
    // The patient's address is for invoices; an ordonnance does not need it.
    expect(text).not.toContain('rue de l’Église');
  });

  it('prints what is stored and leaves out what is not', async () => {
    const bare = await create(a.owner, 'patients', { name: 'Jérôme Çelik' });
    const prescription = await create(a.owner, 'prescriptions', { patient_uuid: bare.uuid, medication: 'Doliprane' });
    const res = await get(`/api/prescriptions/${prescription.uuid}/pdf`, a.owner.headers);
    expect(res.statusCode).toBe(200);
    const text = await textOf(res.rawPayload);
    expect(text).toContain('Jérôme Çelik');
    expect(text).toContain('Posologie : —');
    for (const absent of ['Né(e) le', 'Sexe', 'Spécialité', 'N° d’inscription', 'Validité']) {
      expect(text, absent).not.toContain(absent);
    }
  });
});

describe('GET /api/invoices/{uuid}/pdf', () => {
  it('is an invoice: practice, patient, date, its line with unit price, quantity and total, in euros', async () => {
    const invoice = await invoiceOf(a.doctor);
    expect(invoice.total_amount).toBe(370368);
    const res = await get(`/api/invoices/${invoice.uuid}/pdf`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain('filename="facture-2026-03-06.pdf"');
    expect(res.headers['cache-control']).toBe('no-store');

    const text = await textOf(res.rawPayload);
    for (const mention of [
      'Facture',
      'Clinique Sainte-Cécile',
      'Dr Hélène Françoise Bœuf',
      'Zoé Lefèvre-Cœur',
      '12 rue de l’Église, 75004 Paris',
      'Date de la facture : 6 mars 2026',
      `Référence : ${invoice.uuid}`,
      'Désignation',
      'Prix unitaire',
      'Quantité',
      'Consultation spécialisée — échographie',
      '1 234,56 €',
      'Total : 3 703,68 €',
      `Code : ${groupedCode(invoice.verification_code)}`,
    ]) {
      expect(text, mention).toContain(mention);
    }
  });
});

describe('GET /api/verify/{code}', () => {
  it('answers type, status and the digest of exactly the bytes last served, and nothing else', async () => {
    const invoice = await invoiceOf(a.doctor);
    const before = await verify(invoice.verification_code);
    expect(before).toEqual({ type: 'invoice', status: 'valid', issued_at: null, sha256: null });

    const res = await get(`/api/invoices/${invoice.uuid}/pdf`);
    const after = await verify(invoice.verification_code);
    expect(Object.keys(after).sort()).toEqual(VERIFICATION_KEYS);
    expect(after).toEqual({
      type: 'invoice',
      status: 'valid',
      issued_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      sha256: sha256(res.rawPayload),
    });
    // No names, no amounts, no identifiers of the record, the practice or the patient. The digest,
    // checked above, is left out: about one digest in a thousand spells 1234 somewhere (a test run saw one).
    const answer = JSON.stringify({ ...after, sha256: null });
    for (const secret of [
      'Zoé',
      'Lefèvre',
      'Bœuf',
      'Sainte-Cécile',
      '1234',
      '3703',
      invoice.uuid,
      invoice.patient_uuid,
    ]) {
      expect(answer).not.toContain(secret);
    }

    const prescription = await prescriptionOf(a.doctor);
    const pdf = await get(`/api/prescriptions/${prescription.uuid}/pdf`);
    expect(await verify(prescription.verification_code)).toEqual({
      type: 'prescription',
      status: 'valid',
      issued_at: expect.any(String),
      sha256: sha256(pdf.rawPayload),
    });
  });

  it('reads the code as a person types it: lower case, grouped, O for 0 and I or L for 1', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const code: string = prescription.verification_code;
    const typed = groupedCode(code).toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    expect((await verify(typed)).type).toBe('prescription');
  });

  it('answers 404 in MedReport’s shape to an unknown code and to anything that cannot be a code', async () => {
    const unknown = '0123456789ABCDEFGHJK';
    for (const code of [unknown, 'ABC', 'UUUUUUUUUUUUUUUUUUUU', `${unknown}0`, '%20', 'x'.repeat(90)]) {
      const res = await app.inject({ method: 'GET', url: `/api/verify/${code}` });
      expect(res.statusCode, code).toBe(404);
      expect(res.json(), code).toMatchObject({ success: false, message: expect.any(String) });
    }
  });

  it('changes after a new download only when the bytes differ, and not for a HEAD', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const url = `/api/prescriptions/${prescription.uuid}/pdf`;
    vi.useFakeTimers({ toFake: ['Date'] });
    const t1 = new Date(Math.floor(Date.now() / 1000) * 1000 + 250);
    vi.setSystemTime(t1);
    const first = await get(url);
    const issued = await verify(prescription.verification_code);
    expect(issued).toMatchObject({
      sha256: sha256(first.rawPayload),
      issued_at: new Date(t1.getTime() - 250).toISOString(),
    });

    // Again within the same second: the same bytes, the same answer.
    vi.setSystemTime(t1.getTime() + 500);
    const again = await get(url);
    expect(sha256(again.rawPayload)).toBe(sha256(first.rawPayload));
    expect(await verify(prescription.verification_code)).toEqual(issued);

    // A HEAD renders but delivers nothing: it is not an issue. Over real HTTP, where Node consumes
    // (and drops) the body of a HEAD answer; app.inject would not read it at all.
    vi.setSystemTime(t1.getTime() + 2000);
    const head = await fetch(`${await listening()}${url}`, { method: 'HEAD', headers: a.doctor.headers });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/pdf');
    expect(await verify(prescription.verification_code)).toEqual(issued);

    // Later: other bytes (the creation date), and the answer follows them.
    vi.setSystemTime(t1.getTime() + 3000);
    const later = await get(url);
    expect(sha256(later.rawPayload)).not.toBe(sha256(first.rawPayload));
    expect(await verify(prescription.verification_code)).toEqual({
      type: 'prescription',
      status: 'valid',
      issued_at: new Date(t1.getTime() - 250 + 3000).toISOString(),
      sha256: sha256(later.rawPayload),
    });
  });

  it('is public and limited per address (429 in MedReport’s shape past 60 a minute)', async () => {
    const limited = await buildTestApp({ config: { rateLimits: true } });
    try {
      const prescription = await prescriptionOf(a.doctor);
      const ask = (remoteAddress: string) =>
        limited.inject({ method: 'GET', url: `/api/verify/${prescription.verification_code}`, remoteAddress });
      for (let i = 0; i < 60; i++) expect((await ask('203.0.113.7')).statusCode).toBe(200);
      const refused = await ask('203.0.113.7');
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ success: false, message: expect.any(String) });
      expect(refused.headers['retry-after']).toBeDefined();
      expect((await ask('203.0.113.8')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('who gets a PDF', () => {
  it('the organization’s owner and doctors, as for the JSON; 404 for another organization', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const invoice = await invoiceOf(a.doctor);
    for (const url of [`/api/prescriptions/${prescription.uuid}/pdf`, `/api/invoices/${invoice.uuid}/pdf`]) {
      expect((await get(url, a.owner.headers)).statusCode, url).toBe(200);
      expect((await get(url, a.doctor.headers)).statusCode, url).toBe(200);
      for (const intruder of [b.doctor, b.owner]) {
        const res = await get(url, intruder.headers);
        expect(res.statusCode, url).toBe(404);
        expect(res.json()).toMatchObject({ success: false });
        expect(res.headers['content-type']).toContain('application/json');
      }
    }
  });

  it('401 without a token, 403 without an organization (platform administrators included)', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const invoice = await invoiceOf(a.doctor);
    const loner = await registerUser(app);
    const admin = await createPlatformAdmin(app);
    for (const url of [`/api/prescriptions/${prescription.uuid}/pdf`, `/api/invoices/${invoice.uuid}/pdf`]) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
      expect((await get(url, bearer(loner.token))).statusCode, url).toBe(403);
      expect((await get(url, admin.headers)).statusCode, url).toBe(403);
    }
  });

  it('404 for an unknown uuid, 422 for a malformed one', async () => {
    for (const plural of ['prescriptions', 'invoices']) {
      expect((await get(`/api/${plural}/${randomUUID()}/pdf`)).statusCode).toBe(404);
      expect((await get(`/api/${plural}/not-a-uuid/pdf`)).statusCode).toBe(422);
    }
  });

  it('a deleted record: 404 like its JSON, and its code now says cancelled (with its last issue)', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const invoice = await invoiceOf(a.doctor);
    for (const [plural, record] of [
      ['prescriptions', prescription],
      ['invoices', invoice],
    ] as const) {
      const url = `/api/${plural}/${record.uuid}`;
      const pdf = await get(`${url}/pdf`);
      expect(pdf.statusCode).toBe(200);
      const deleted = await app.inject({ method: 'DELETE', url, headers: a.doctor.headers });
      expect(deleted.statusCode).toBe(200);
      expect((await get(url)).statusCode).toBe(404);
      expect((await get(`${url}/pdf`)).statusCode).toBe(404);
      expect(await verify(record.verification_code)).toEqual({
        type: plural.slice(0, -1),
        status: 'cancelled',
        issued_at: expect.any(String),
        sha256: sha256(pdf.rawPayload),
      });
    }
  });
});

describe('issuing a PDF is not a change of the record', () => {
  it('leaves updated_at, the activity log and the sync feed as they were', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const count = async (table: 'medreport.activity_log' | 'medreport.changes') =>
      Number(
        (
          await owner.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('organization_id', '=', a.organization.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const [log, feed] = [await count('medreport.activity_log'), await count('medreport.changes')];
    expect((await get(`/api/prescriptions/${prescription.uuid}/pdf`)).statusCode).toBe(200);
    expect((await verify(prescription.verification_code)).sha256).toEqual(expect.any(String));
    expect(await count('medreport.activity_log')).toBe(log);
    expect(await count('medreport.changes')).toBe(feed);
    expect((await get(`/api/prescriptions/${prescription.uuid}`)).json()).toEqual(prescription);
    // Kept in the organization's own row, under its row-level security.
    const issues = await owner.db
      .selectFrom('medreport.document_issues')
      .selectAll()
      .where('record_uuid', '=', prescription.uuid)
      .execute();
    expect(issues).toEqual([
      expect.objectContaining({ organization_id: a.organization.id, record_type: 'prescription' }),
    ]);
  });
});

describe('verification_code on the resource', () => {
  it('is on every prescription and invoice, in the format printed, different for each record', async () => {
    const records = [
      await prescriptionOf(a.doctor),
      await prescriptionOf(b.doctor),
      await invoiceOf(a.doctor),
      await invoiceOf(b.owner),
    ];
    for (const record of records) expect(record.verification_code).toMatch(CODE);
    expect(new Set(records.map((r) => r.verification_code)).size).toBe(records.length);
    const list = await get('/api/prescriptions?limit=100');
    const listed = list.json().data.find((p: { uuid: string }) => p.uuid === records[0].uuid);
    expect(listed.verification_code).toBe(records[0].verification_code);
  });

  it('cannot be chosen by a client: create ignores it, a PATCH of it alone is 422, a PATCH never changes it', async () => {
    const chosen = 'ZZZZZZZZZZZZZZZZZZZZ';
    const patient = await patientOf(a.doctor);
    const created = await create(a.doctor, 'prescriptions', {
      patient_uuid: patient.uuid,
      medication: 'Ibuprofène',
      verification_code: chosen,
    });
    expect(created.verification_code).toMatch(CODE);
    expect(created.verification_code).not.toBe(chosen);

    const invoice = await invoiceOf(a.doctor);
    for (const [plural, record] of [
      ['prescriptions', created],
      ['invoices', invoice],
    ] as const) {
      const url = `/api/${plural}/${record.uuid}`;
      const alone = await app.inject({
        method: 'PATCH',
        url,
        headers: a.doctor.headers,
        payload: { verification_code: chosen },
      });
      expect(alone.statusCode).toBe(422);
      const other = plural === 'prescriptions' ? { dosage: '2 fois par jour' } : { quantity: 2 };
      const along = await app.inject({
        method: 'PATCH',
        url,
        headers: a.doctor.headers,
        payload: { ...other, verification_code: chosen },
      });
      expect(along.statusCode).toBe(200);
      expect(along.json()).toMatchObject(other);
      expect(along.json().verification_code).toBe(record.verification_code);
    }
  });

  it('comes with sync: a pushed record gets its own, the pull carries it as the REST resource does', async () => {
    const patient = await patientOf(a.doctor);
    const uuid = randomUUID();
    const pushed = await app.inject({
      method: 'POST',
      url: '/api/sync/batch',
      headers: a.doctor.headers,
      payload: {
        prescriptions: [
          {
            uuid,
            patient_uuid: patient.uuid,
            medication: 'Synchronisée',
            verification_code: 'ZZZZZZZZZZZZZZZZZZZZ',
            updated_at: new Date().toISOString(),
          },
        ],
      },
    });
    expect(pushed.statusCode, pushed.body).toBe(200);
    expect(pushed.json().errors).toEqual([]);
    const rest = (await get(`/api/prescriptions/${uuid}`)).json();
    expect(rest.verification_code).toMatch(CODE);
    expect(rest.verification_code).not.toBe('ZZZZZZZZZZZZZZZZZZZZ');

    const pull = await get('/api/sync/changes?entities[]=prescriptions&limit=1000');
    expect(pull.statusCode).toBe(200);
    const entry = pull.json().changes.prescriptions.find((c: { uuid: string }) => c.uuid === uuid);
    expect(entry.data).toEqual(rest);
  });
});

describe('rendering', () => {
  it('gives the same bytes for the same data and creation date, other bytes for another date', async () => {
    const prescription = await prescriptionOf(a.doctor);
    const invoice = await invoiceOf(a.doctor);
    const db = app.tenantPool.forOrganization(a.organization.id);
    const verificationUrl = (code: string) => `https://example.test/api/verify/${code}`;
    const creationDate = new Date('2026-03-05T10:00:00Z');
    const rx = await loadPrescription(db, prescription.uuid);
    const inv = await loadInvoice(db, invoice.uuid);
    for (const render of [
      (date: Date) => renderPrescription(rx, { verificationUrl, creationDate: date }),
      (date: Date) => renderInvoice(inv, { verificationUrl, creationDate: date }),
    ]) {
      const one = await bytesOf(render(creationDate));
      const two = await bytesOf(render(creationDate));
      expect(one.length).toBeGreaterThan(1000);
      expect(one.equals(two)).toBe(true);
      const other = await bytesOf(render(new Date('2026-03-05T10:00:01Z')));
      expect(other.equals(one)).toBe(false);
    }
  });

  it('keeps every character readable whatever the documents rendered before (the A of À)', async () => {
    // A fresh module, so the shared fonts have met no glyph yet: the ordonnance prints A only as
    // part of À, then the invoice prints A itself.
    vi.resetModules();
    const fresh = {
      prescription: await import('../../domain/medreport/documents/prescription.js'),
      invoice: await import('../../domain/medreport/documents/invoice.js'),
    };
    const db = app.tenantPool.forOrganization(a.organization.id);
    const verificationUrl = (code: string) => `https://example.test/api/verify/${code}`;
    const rx = await loadPrescription(db, (await prescriptionOf(a.doctor)).uuid);
    const inv = await loadInvoice(db, (await invoiceOf(a.doctor)).uuid);
    await bytesOf(
      fresh.prescription.renderPrescription({ ...rx, verification_code: '8CZ7Q263FRE16PNZ6DFV' }, { verificationUrl }),
    );
    const text = await textOf(
      await bytesOf(fresh.invoice.renderInvoice({ ...inv, verification_code: 'A'.repeat(20) }, { verificationUrl })),
    );
    expect(text).toContain('Code : AAAAA-AAAAA-AAAAA-AAAAA');
  });

  it('loads nothing of another organization', async () => {
    const prescription = await prescriptionOf(a.doctor);
    await expect(
      loadPrescription(app.tenantPool.forOrganization(b.organization.id), prescription.uuid),
    ).rejects.toThrow(/introuvable/);
  });
});
