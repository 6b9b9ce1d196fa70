import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import * as documents from '../../db/migrations/0017_medreport_documents.js';
import { clonedDatabaseUrl } from '../helpers/database.js';

// Migration 0017 on a database that already holds prescriptions, invoices and their feed entries:
// run down (as before 0017), filled, then up again.

const CODE = /^[0-9A-HJKMNP-TV-Z]{20}$/;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let handle: DatabaseHandle;

beforeAll(async () => {
  handle = connect(await clonedDatabaseUrl(), { max: 2 });
});
afterAll(() => handle.db.destroy());

const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(handle.db)).rows;

describe('migration 0017 (MedReport documents)', () => {
  it('gives every existing prescription and invoice its own code, without touching them, and to their feed entries', async () => {
    const { db } = handle;
    await documents.down(db);
    const [user] = await rows(sql<{ id: number; uuid: string }>`
      insert into medreport.users (uuid, name, email) values (gen_random_uuid(), 'Dr Avant', 'avant@example.fr')
      returning id, uuid`);
    const [org] = await rows(sql<{ id: number }>`
      insert into medreport.organizations (uuid, name, code, owner_user_id)
      values (gen_random_uuid(), 'Cabinet Avant', 'ORG-AVANT00001', ${user!.id}) returning id`);
    const patient = randomUUID();
    const [rx1, rx2, inv] = [randomUUID(), randomUUID(), randomUUID()];
    const then = '2020-01-02T03:04:05.000Z';
    await sql`insert into medreport.patients (organization_id, uuid, name) values (${org!.id}, ${patient}, 'P')`.execute(
      db,
    );
    for (const uuid of [rx1, rx2]) {
      await sql`
        insert into medreport.prescriptions (organization_id, uuid, patient_uuid, doctor_uuid, medication, updated_at)
        values (${org!.id}, ${uuid}, ${patient}, ${user!.uuid}, 'Doliprane', ${then})`.execute(db);
    }
    await sql`
      insert into medreport.invoices (organization_id, uuid, patient_uuid, doctor_uuid, designation, unit_price, quantity, total_amount, updated_at)
      values (${org!.id}, ${inv}, ${patient}, ${user!.uuid}, 'Acte', 100, 1, 100, ${then})`.execute(db);
    await sql`
      insert into medreport.changes (organization_id, entity, uuid, action, data) values
        (${org!.id}, 'prescriptions', ${rx1}, 'upsert', ${JSON.stringify({ uuid: rx1, medication: 'Doliprane' })}::jsonb),
        (${org!.id}, 'prescriptions', ${rx2}, 'delete', null),
        (${org!.id}, 'invoices', ${inv}, 'upsert', ${JSON.stringify({ uuid: inv, designation: 'Acte' })}::jsonb)`.execute(
      db,
    );

    await documents.up(db);

    const records = await rows(sql<{ uuid: string; verification_code: string; updated_at: Date }>`
      select uuid, verification_code, updated_at from medreport.prescriptions where organization_id = ${org!.id}
      union all
      select uuid, verification_code, updated_at from medreport.invoices where organization_id = ${org!.id}`);
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.verification_code).toMatch(CODE);
      expect(record.updated_at.toISOString()).toBe(then);
    }
    expect(new Set(records.map((r) => r.verification_code)).size).toBe(3);
    const code = (uuid: string) => records.find((r) => r.uuid === uuid)!.verification_code;

    const feed = await rows(sql<{ uuid: string; data: Record<string, unknown> | null }>`
      select uuid, data from medreport.changes where organization_id = ${org!.id} order by seq`);
    expect(feed).toEqual([
      { uuid: rx1, data: { uuid: rx1, medication: 'Doliprane', verification_code: code(rx1) } },
      { uuid: rx2, data: null },
      { uuid: inv, data: { uuid: inv, designation: 'Acte', verification_code: code(inv) } },
    ]);

    // A row inserted later, by any path, gets one from the column default.
    const [later] = await rows(sql<{ verification_code: string }>`
      insert into medreport.prescriptions (organization_id, uuid, patient_uuid, doctor_uuid, medication)
      values (${org!.id}, ${randomUUID()}, ${patient}, ${user!.uuid}, 'Ibuprofène') returning verification_code`);
    expect(later!.verification_code).toMatch(CODE);
  });

  it('draws codes whose every character is uniform over the 32 symbols (the UUID version byte is skipped)', async () => {
    const codes = (
      await rows(sql<{ code: string }>`select medreport.new_verification_code() as code from generate_series(1, 2000)`)
    ).map((r) => r.code);
    for (const code of codes) expect(code).toMatch(CODE);
    expect(new Set(codes).size).toBe(codes.length);
    // 2,000 draws: a fair symbol is missing from one position with probability (31/32)^2000, about
    // 1e-28. A character taken from the UUID's version byte would only ever show 16 symbols.
    for (let position = 0; position < 20; position++) {
      const seen = new Set(codes.map((c) => c[position]));
      expect([...seen].sort().join(''), `position ${position}`).toBe(ALPHABET);
    }
  });

  it('refuses a code outside the format and a code already taken', async () => {
    const [row] = await rows(sql<{
      organization_id: number;
      patient_uuid: string;
      doctor_uuid: string;
      verification_code: string;
    }>`
      select organization_id, patient_uuid, doctor_uuid, verification_code from medreport.prescriptions limit 1`);
    const insert = (code: string) =>
      sql`
        insert into medreport.prescriptions (organization_id, uuid, patient_uuid, doctor_uuid, medication, verification_code)
        values (${row!.organization_id}, ${randomUUID()}, ${row!.patient_uuid}, ${row!.doctor_uuid}, 'X', ${code})`.execute(
        handle.db,
      );
    await expect(insert('ILOU0000000000000000')).rejects.toThrow(/verification_code_check/);
    await expect(insert(row!.verification_code)).rejects.toThrow(/verification_code_key/);
  });
});
