import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import * as sessionKeys from '../../db/migrations/0027_medreport_record_session_keys.js';
import { clonedDatabaseUrl, insertOrganization } from '../helpers/database.js';

// Migration 0027: the records' keys to the session's organization and actor go; organizations and
// accounts can then no longer be removed, by anyone (this handle is the tables' owner).

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = connect(await clonedDatabaseUrl(), { max: 2 });
});
afterAll(() => handle.db.destroy());

const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(handle.db)).rows;

/** The foreign keys of the record tables, as `table: definition`. */
const recordForeignKeys = async () =>
  (
    await rows(sql<{ key: string }>`
      select conrelid::regclass || ': ' || pg_get_constraintdef(oid) as key from pg_constraint
       where contype = 'f'
         and conrelid in ('medreport.patients'::regclass, 'medreport.prescriptions'::regclass,
                          'medreport.invoices'::regclass, 'medreport.files'::regclass)
       order by 1`)
  ).map((r) => r.key);

const failureOf = (statement: ReturnType<typeof sql>) =>
  statement.execute(handle.db).then(
    () => undefined,
    (err: { code?: string; message: string }) => ({ code: err.code, message: err.message }),
  );

describe('migration 0027 (MedReport records keep the session keys without foreign keys)', () => {
  it('keeps only the foreign keys a client names: a prescription or invoice to its patient and doctor', async () => {
    expect(await recordForeignKeys()).toEqual([
      'medreport.invoices: FOREIGN KEY (doctor_uuid) REFERENCES medreport.users(uuid)',
      'medreport.invoices: FOREIGN KEY (organization_id, patient_uuid) REFERENCES medreport.patients(organization_id, uuid)',
      'medreport.prescriptions: FOREIGN KEY (doctor_uuid) REFERENCES medreport.users(uuid)',
      'medreport.prescriptions: FOREIGN KEY (organization_id, patient_uuid) REFERENCES medreport.patients(organization_id, uuid)',
    ]);
  });

  it('refuses to delete or truncate an organization or an account, to the tables’ owner too', async () => {
    const { userId, organizationId } = await insertOrganization(handle.db, '0027000001');
    await sql`insert into medreport.patients (organization_id, uuid, name, created_by)
              values (${organizationId}, ${randomUUID()}, 'Gardé', ${userId})`.execute(handle.db);
    for (const statement of [
      sql`delete from medreport.organizations where id = ${organizationId}`,
      sql`delete from medreport.users where id = ${userId}`,
      sql`truncate medreport.organizations cascade`,
      sql`truncate medreport.users cascade`,
    ]) {
      expect(await failureOf(statement)).toEqual({
        code: '23001',
        message: expect.stringMatching(/^(organizations|users) rows are never removed/),
      });
    }
    const [kept] = await rows(sql<{ users: number; organizations: number; patients: number }>`
      select (select count(*)::int from medreport.users where id = ${userId}) as users,
             (select count(*)::int from medreport.organizations where id = ${organizationId}) as organizations,
             (select count(*)::int from medreport.patients where organization_id = ${organizationId}) as patients`);
    expect(kept).toEqual({ users: 1, organizations: 1, patients: 1 });
  });

  it('reverts to the foreign keys of before, which then refuse a record of an unknown organization', async () => {
    const { db } = handle;
    await sessionKeys.down(db);
    try {
      expect(await recordForeignKeys()).toHaveLength(12);
      const { organizationId } = await insertOrganization(handle.db, '0027000002');
      expect(
        await failureOf(sql`insert into medreport.patients (organization_id, uuid, name, created_by)
                            values (${organizationId}, ${randomUUID()}, 'Sans auteur', -1)`),
      ).toMatchObject({ code: '23503' });
      // Removable again, as before 0027 (an organization without records).
      await sql`delete from medreport.organizations where id = ${organizationId}`.execute(db);
    } finally {
      await sessionKeys.up(db);
    }
    expect(await recordForeignKeys()).toHaveLength(4);
  });
});
