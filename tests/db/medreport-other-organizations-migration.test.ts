import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import * as otherOrganizations from '../../db/migrations/0028_medreport_other_organizations_static.js';
import { clonedDatabaseUrl, insertOrganization } from '../helpers/database.js';

// Migration 0028: which of a push's uuids another organization holds, asked with a query written
// out per entity (planned once per connection) instead of one built and planned on every call.

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = connect(await clonedDatabaseUrl(), { max: 2 });
});
afterAll(() => handle.db.destroy());

const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(handle.db)).rows;

const others = async (entity: string, organizationId: number, ids: string[]) =>
  (
    await rows(sql<{ uuid: string }>`
      select medreport.uuids_of_other_organizations(${entity}, ${organizationId}, ${ids}::uuid[]) as uuid`)
  )
    .map((r) => r.uuid)
    .sort();

const source = async () =>
  (
    await rows(sql<{ src: string }>`select prosrc as src from pg_proc where proname = 'uuids_of_other_organizations'`)
  )[0]!.src;

describe('migration 0028 (the other organizations’ uuids, asked without dynamic SQL)', () => {
  it('names the uuids another organization holds, not the asker’s own nor unknown ones, for each entity', async () => {
    const a = await insertOrganization(handle.db, '0028000001');
    const b = await insertOrganization(handle.db, '0028000002');
    const [ours, theirs, nobody] = [randomUUID(), randomUUID(), randomUUID()];
    await sql`insert into medreport.patients (organization_id, uuid, name, created_by)
              values (${a.organizationId}, ${ours}, 'Chez A', ${a.userId}),
                     (${b.organizationId}, ${theirs}, 'Chez B', ${b.userId})`.execute(handle.db);
    expect(await others('patients', a.organizationId, [ours, theirs, nobody])).toEqual([theirs]);
    expect(await others('patients', b.organizationId, [ours, theirs, nobody])).toEqual([ours]);
    for (const entity of ['prescriptions', 'invoices', 'files']) {
      expect(await others(entity, a.organizationId, [ours, theirs, nobody])).toEqual([]);
    }
    await expect(others('users', a.organizationId, [ours])).rejects.toThrow(/unknown entity users/);
    expect(await source()).not.toMatch(/\bexecute\b/i);
  });

  it('reverts to the function of before, with the same answers', async () => {
    const a = await insertOrganization(handle.db, '0028000003');
    const b = await insertOrganization(handle.db, '0028000004');
    const theirs = randomUUID();
    await sql`insert into medreport.patients (organization_id, uuid, name, created_by)
              values (${b.organizationId}, ${theirs}, 'Chez B', ${b.userId})`.execute(handle.db);
    await otherOrganizations.down(handle.db);
    try {
      expect(await source()).toMatch(/\bexecute format\b/i);
      expect(await others('patients', a.organizationId, [theirs, randomUUID()])).toEqual([theirs]);
    } finally {
      await otherOrganizations.up(handle.db);
    }
    expect(await others('patients', a.organizationId, [theirs])).toEqual([theirs]);
  });
});
