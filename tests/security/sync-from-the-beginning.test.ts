import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as horizonTime from '../../db/migrations/0014_medreport_sync_horizon_time.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type Member, type TenantFixture } from '../helpers/tenants.js';

// Mobile sync libraries start with `since=1970-01-01T00:00:00Z`. A fixed "older than the
// retention: 410" rule sent every such first sync to a resync that could never succeed, though
// nothing had been pruned (issue 21, item 11). 410 now means what it says: changes after that
// instant are gone for the organization.

type Entry = { entity: string; uuid: string; action: string };

let app: App;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

async function rest(member: Member, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const res = await app.inject({ method, url, headers: member.headers, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res;
}

const createPatient = async (member: Member, name: string): Promise<string> =>
  (await rest(member, 'POST', '/api/patients', { name })).json().uuid;

function changesSince(member: Member, since: string) {
  return app.inject({
    method: 'GET',
    url: `/api/sync/changes?since=${encodeURIComponent(since)}&limit=2`,
    headers: member.headers,
  });
}

/** Every change a device pulls from `since`, following the cursor, in the order it gets them. */
async function pullFrom(member: Member, since: string): Promise<Entry[]> {
  const seen: Entry[] = [];
  for (let cursor = since; ; ) {
    const res = await changesSince(member, cursor);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    for (const [entity, list] of Object.entries<Array<{ uuid: string; action: string }>>(page.changes)) {
      seen.push(...list.map(({ uuid, action }) => ({ entity, uuid, action })));
    }
    if (!page.has_more) return seen;
    cursor = page.cursor;
  }
}

/** The organization's feed as stored, in commit order (what a device must end up with). */
async function feedOf(fx: TenantFixture): Promise<Entry[]> {
  const { rows } = await owner.pool.query(
    'select entity, uuid, action from medreport.changes where organization_id = $1 order by seq',
    [fx.organization.id],
  );
  return rows;
}

/** Dates the organization's changes of these records back to `at`, as if made then. */
async function backdate(fx: TenantFixture, uuids: string[], at: string) {
  await owner.pool.query('update medreport.changes set changed_at = $3 where organization_id = $1 and uuid = any($2)', [
    fx.organization.id,
    uuids,
    at,
  ]);
}

const expectGone = async (member: Member, since: string) => {
  const res = await changesSince(member, since);
  expect(res.statusCode, `since=${since}: ${res.body}`).toBe(410);
  expect(res.json()).toMatchObject({ success: false, message: expect.stringContaining('resynchronisez') });
};

describe('issue 21 item 11: sync from the beginning', () => {
  it('serves a fresh organization every change for since=1970-01-01T00:00:00Z', async () => {
    const fx = await createOrganization(app, 'Premier lancement');
    const kept = await createPatient(fx.doctor, 'Awa');
    const removed = await createPatient(fx.doctor, 'Moussa');
    await rest(fx.doctor, 'PATCH', `/api/patients/${kept}`, { notes: 'Suivi' });
    await rest(fx.doctor, 'DELETE', `/api/patients/${removed}`);
    await rest(fx.doctor, 'POST', '/api/prescriptions', { patient_uuid: kept, medication: 'Paracétamol' });

    const pulled = await pullFrom(fx.doctor, '1970-01-01T00:00:00Z');
    const feed = await feedOf(fx);
    expect(feed).toHaveLength(5);
    expect(pulled).toHaveLength(feed.length);
    // Each entity's list in commit order (a page groups its changes by entity).
    for (const entity of ['patients', 'prescriptions']) {
      expect(pulled.filter((e) => e.entity === entity)).toEqual(feed.filter((e) => e.entity === entity));
    }
  });

  describe('after a real prune', () => {
    let fx: TenantFixture;
    let recent: string[];

    beforeAll(async () => {
      fx = await createOrganization(app, 'Élaguée');
      const old = [await createPatient(fx.doctor, 'Ancien 1'), await createPatient(fx.doctor, 'Ancien 2')];
      await backdate(fx, [old[0]!], '2001-01-01T00:00:00Z');
      await backdate(fx, [old[1]!], '2001-01-02T00:00:00Z');
      recent = [await createPatient(fx.doctor, 'Récent 1'), await createPatient(fx.doctor, 'Récent 2')];
      // The project's own prune, as the hourly job runs it, with a cutoff between the two groups.
      await owner.pool.query(`select medreport.prune_sync_changes('2010-01-01T00:00:00Z')`);
      expect((await feedOf(fx)).map((e) => e.uuid)).toEqual(recent);
    });

    it('answers 410 to a since at or before a pruned change: 1970, before them, between them, at the last', async () => {
      const sinces = ['1970-01-01T00:00:00Z', '2000-06-01T00:00:00Z', '2001-01-01T12:00:00Z', '2001-01-02T00:00:00Z'];
      for (const since of sinces) {
        await expectGone(fx.doctor, since);
      }
    });

    it('serves exactly the changes after a since past the horizon', async () => {
      for (const since of ['2001-01-02T00:00:00.001Z', '2005-01-01T00:00:00Z', '2010-01-01T00:00:00Z']) {
        expect((await pullFrom(fx.doctor, since)).map((e) => e.uuid)).toEqual(recent);
      }
    });

    it('still answers 410 to a cursor from before the prune', async () => {
      const res = await changesSince(fx.doctor, Buffer.from('{"v":1,"c":0}').toString('base64url'));
      expect(res.statusCode).toBe(410);
    });

    it('records when the last pruned change was made', async () => {
      const { rows } = await owner.pool.query(
        'select changed_at from medreport.sync_horizons where organization_id = $1',
        [fx.organization.id],
      );
      expect(rows).toEqual([{ changed_at: new Date('2001-01-02T00:00:00Z') }]);
    });

    it('leaves other organizations whole: since=1970 still serves everything', async () => {
      const other = await createOrganization(app, 'Intacte');
      const uuid = await createPatient(other.doctor, 'Seul');
      expect(await pullFrom(other.doctor, '1970-01-01T00:00:00Z')).toEqual([
        { entity: 'patients', uuid, action: 'upsert' },
      ]);
    });
  });

  it('gives a horizon pruned before migration 0014 the first kept change as its time', async () => {
    const fx = await createOrganization(app, 'Migrée');
    const old = await createPatient(fx.doctor, 'Ancien');
    await backdate(fx, [old], '2002-01-01T00:00:00Z');
    const kept = await createPatient(fx.doctor, 'Gardé');
    // In a transaction rolled back at the end: the schema as it was, a prune, then the migration.
    const trx = await owner.db.startTransaction().execute();
    let backfilled: Array<{ horizon: Date; first_kept: Date }>;
    try {
      await horizonTime.down(trx);
      await sql`select medreport.prune_sync_changes('2010-01-01T00:00:00Z')`.execute(trx);
      await horizonTime.up(trx);
      ({ rows: backfilled } = await sql<{ horizon: Date; first_kept: Date }>`
        select h.changed_at as horizon, c.changed_at as first_kept
          from medreport.sync_horizons h, medreport.changes c
         where h.organization_id = ${fx.organization.id} and c.uuid = ${kept}`.execute(trx));
    } finally {
      await trx.rollback().execute();
    }
    expect(backfilled).toHaveLength(1);
    const [{ horizon, first_kept }] = backfilled as [{ horizon: Date; first_kept: Date }];
    expect(horizon).toEqual(first_kept);
    // Later than the lost time (2002-01-01): a since before that is a 410, as it should be.
    expect(horizon.getTime()).toBeGreaterThan(Date.parse('2002-01-01T00:00:00Z'));
  });
});
