import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import * as distributionKeys from '../../db/migrations/0023_medreport_distribution_keys.js';
import { clonedDatabaseUrl } from '../helpers/database.js';

// Migration 0023 on a database whose activity log holds entries of no organization: run down (as
// before 0023), filled, then up, then down and up again.

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = connect(await clonedDatabaseUrl(), { max: 2 });
});
afterAll(() => handle.db.destroy());

interface Entry {
  id: number;
  organization_id: number | null;
  action: string;
  user_name: string | null;
  entity_name: string | null;
}

const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(handle.db)).rows;
const organizationLog = () =>
  rows(sql<Entry>`
    select id, organization_id, action, user_name, entity_name from medreport.activity_log order by id`);
const platformLog = () =>
  rows(sql<Omit<Entry, 'organization_id'>>`
    select id, action, user_name, entity_name from medreport.platform_activity_log order by id`);
const primaryKey = async () =>
  (
    await rows(sql<{ definition: string }>`
      select pg_get_constraintdef(oid) as definition from pg_constraint
       where conrelid = 'medreport.activity_log'::regclass and contype = 'p'`)
  )[0]!.definition;

describe('migration 0023 (MedReport distribution keys)', () => {
  it('moves the entries of no organization to the platform log, keyed and logged as before', async () => {
    const { db } = handle;
    await distributionKeys.down(db);
    expect(await primaryKey()).toBe('PRIMARY KEY (id)');
    const [owner, loner] = await rows(sql<{ id: number; uuid: string }>`
      insert into medreport.users (uuid, name, email) values
        (gen_random_uuid(), 'Dr Avant', 'avant-0023@example.fr'), (gen_random_uuid(), 'Seul', 'seul-0023@example.fr')
      returning id, uuid`);
    const [org] = await rows(sql<{ id: number }>`
      insert into medreport.organizations (uuid, name, code, owner_user_id)
      values (gen_random_uuid(), 'Cabinet 0023', 'ORG-0023000001', ${owner!.id}) returning id`);
    await sql`update medreport.users set organization_id = ${org!.id}, role = 'owner' where id = ${owner!.id}`.execute(
      db,
    );
    // As before 0023: the organization's event, an administrator's action and an account's event
    // without an organization, all in the activity log.
    await sql`select medreport.log_account_event(${owner!.id}, 'user.oauth_takeover')`.execute(db);
    await sql`select medreport.log_platform_action(${owner!.id}, 'Dr Avant', 'admin.user.updated', ${loner!.uuid}::uuid, 'Seul')`.execute(
      db,
    );
    await sql`select medreport.log_account_event(${loner!.id}, 'user.oauth_takeover')`.execute(db);
    const before = await organizationLog();
    expect(before.map((e) => e.organization_id)).toEqual([org!.id, null, null]);

    await distributionKeys.up(db);

    expect(await primaryKey()).toBe('PRIMARY KEY (organization_id, id)');
    expect(await organizationLog()).toEqual([before[0]]);
    expect(await platformLog()).toEqual(before.slice(1).map(({ organization_id: _, ...entry }) => entry));
    await expect(
      sql`insert into medreport.activity_log (organization_id, action, entity_type) values (null, 'x', 'y')`.execute(
        db,
      ),
    ).rejects.toThrow(/null value in column "organization_id"/);

    // The functions write where the entries now belong, with ids of one sequence.
    await sql`select medreport.log_account_event(${owner!.id}, 'user.after')`.execute(db);
    await sql`select medreport.log_account_event(${loner!.id}, 'user.after')`.execute(db);
    await sql`select medreport.log_platform_action(${owner!.id}, 'Dr Avant', 'admin.after', ${loner!.uuid}::uuid, 'Seul')`.execute(
      db,
    );
    const organization = await organizationLog();
    const platform = await platformLog();
    expect(organization.map((e) => [e.organization_id, e.action])).toEqual([
      [org!.id, 'user.oauth_takeover'],
      [org!.id, 'user.after'],
    ]);
    expect(platform.map((e) => e.action)).toEqual([
      'admin.user.updated',
      'user.oauth_takeover',
      'user.after',
      'admin.after',
    ]);
    const ids = [...organization, ...platform].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(platform.at(-1)!.id).toBeGreaterThan(organization.at(-1)!.id);

    // A deleted account is anonymised in both logs.
    await sql`select medreport.anonymise_user(${loner!.id}, ${loner!.uuid}::uuid, 'Utilisateur supprimé')`.execute(db);
    expect(JSON.stringify(await platformLog())).not.toContain('Seul');

    // Down puts every entry back in the activity log, ids kept; up again moves them again.
    const after = [...organization, ...platform].length;
    await distributionKeys.down(db);
    const reverted = await organizationLog();
    expect(reverted).toHaveLength(after);
    expect(reverted.map((e) => e.id)).toEqual([...ids].sort((a, b) => a - b));
    expect(await primaryKey()).toBe('PRIMARY KEY (id)');
    await distributionKeys.up(db);
    expect(await platformLog()).toHaveLength(platform.length);
  });
});
