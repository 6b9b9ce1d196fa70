import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate } from '../../domain/medreport/records/mutation.js';
import { patientRecords } from '../../domain/medreport/records/patients.js';
import { feedQuery, SYNC_ENTITIES } from '../../domain/medreport/sync/pull.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { whileDeletionHeld } from '../helpers/held-deletion.js';
import { multipart } from '../helpers/multipart.js';
import { createOrganization, type Member, type TenantFixture } from '../helpers/tenants.js';

let app: App;
let a: TenantFixture;
let b: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  a = await createOrganization(app, 'Sync A');
  b = await createOrganization(app, 'Sync B');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

type Change = { uuid: string; action: 'upsert' | 'delete'; data: Record<string, unknown> | null };
type Page = { cursor: string; has_more: boolean; changes: Record<string, Change[]> };

const iso = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

async function pullPage(member: Member, query = '', device?: string): Promise<Page> {
  const res = await app.inject({
    method: 'GET',
    url: `/api/sync/changes${query ? `?${query}` : ''}`,
    headers: { ...member.headers, ...(device ? { 'x-device-id': device } : {}) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Pulls until nothing is left; the changes in order, and the last cursor. */
async function pullAll(member: Member, since?: string, extra = '') {
  const changes: Array<Change & { entity: string }> = [];
  let cursor = since;
  for (let pages = 0; pages < 1000; pages++) {
    const query = [cursor ? `since=${encodeURIComponent(cursor)}` : '', extra].filter(Boolean).join('&');
    const page = await pullPage(member, query);
    for (const [entity, list] of Object.entries(page.changes)) {
      for (const change of list) changes.push({ entity, ...change });
    }
    cursor = page.cursor;
    if (!page.has_more) return { changes, cursor };
  }
  throw new Error('the feed never ended');
}

async function pushBatch(member: Member, body: Record<string, unknown>, device?: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/sync/batch',
    headers: { ...member.headers, ...(device ? { 'x-device-id': device } : {}) },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    cursor: string;
    results: Record<
      string,
      Array<{ uuid: string; status: string; updated_at: string | null; data?: Record<string, unknown> | null }>
    >;
    errors: Array<{ entity: string; uuid: string | null; code: string; message: string; errors?: object }>;
  };
}

const rest = (member: Member, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url, headers: member.headers, ...(payload ? { payload } : {}) });

const feedCount = async (organizationId: number) =>
  Number(
    (
      await owner.db
        .selectFrom('medreport.changes')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('pull and push, entity by entity', () => {
  it('round-trips patients, prescriptions and invoices; data is what the REST API answers', async () => {
    const fx = await createOrganization(app, 'Aller-retour');
    const start = (await pullAll(fx.doctor)).cursor;
    const patient = randomUUID();
    const prescription = randomUUID();
    const invoice = randomUUID();
    const patientAt = iso(-1000);
    const pushed = await pushBatch(fx.doctor, {
      patients: [{ uuid: patient, name: 'Awa Ndiaye', birth_date: '1980-03-04', updated_at: patientAt }],
      prescriptions: [{ uuid: prescription, patient_uuid: patient, medication: 'Paracétamol', updated_at: iso(-900) }],
      invoices: [
        {
          uuid: invoice,
          patient_uuid: patient,
          designation: 'Consultation',
          unit_price: 15000,
          quantity: 2,
          updated_at: iso(-800),
        },
      ],
    });
    expect(pushed.errors).toEqual([]);
    for (const [entity, uuid] of [
      ['patients', patient],
      ['prescriptions', prescription],
      ['invoices', invoice],
    ] as const) {
      expect(pushed.results[entity]).toEqual([{ uuid, status: 'ok', updated_at: expect.any(String) }]);
    }
    const { changes } = await pullAll(fx.owner, start);
    expect(changes.map((c) => [c.entity, c.uuid, c.action])).toEqual([
      ['patients', patient, 'upsert'],
      ['prescriptions', prescription, 'upsert'],
      ['invoices', invoice, 'upsert'],
    ]);
    for (const change of changes) {
      const served = await rest(fx.owner, 'GET', `/api/${change.entity}/${change.uuid}`);
      expect(change.data).toEqual(served.json());
      // The push answered each item's updated_at as the REST API answers it: the item's own time.
      const result = pushed.results[change.entity as 'patients']![0]!;
      expect(result.updated_at).toBe(served.json().updated_at);
    }
    expect(pushed.results.patients![0]!.updated_at).toBe(patientAt);
    expect(changes[2]!.data).toMatchObject({ total_amount: 30000, doctor_uuid: fx.doctor.user.uuid });
  });

  it('carries files, uploaded over REST, and their deletion pushed from a device', async () => {
    const fx = await createOrganization(app, 'Fichiers');
    const patient = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Avec fichier' })).json().uuid;
    const start = (await pullAll(fx.doctor)).cursor;
    const form = multipart({
      owner_type: 'patient',
      owner_uuid: patient,
      file: { filename: 'note.txt', contentType: 'text/plain', data: Buffer.from('compte rendu') },
    });
    const uploaded = await app.inject({
      method: 'POST',
      url: '/api/files',
      headers: { ...fx.doctor.headers, ...form.headers },
      payload: form.payload,
    });
    const file = uploaded.json();
    const first = await pullAll(fx.doctor, start);
    expect(first.changes).toEqual([{ entity: 'files', uuid: file.uuid, action: 'upsert', data: file }]);

    const pushed = await pushBatch(fx.doctor, {
      files: [
        { uuid: file.uuid, deleted: true, updated_at: iso() },
        { uuid: randomUUID(), original_name: 'x.pdf', updated_at: iso() },
      ],
    });
    expect(pushed.results.files).toEqual([{ uuid: file.uuid, status: 'ok', updated_at: expect.any(String) }]);
    expect(pushed.errors).toEqual([expect.objectContaining({ entity: 'files', code: 'unsupported' })]);
    const second = await pullAll(fx.doctor, first.cursor);
    expect(second.changes).toEqual([{ entity: 'files', uuid: file.uuid, action: 'delete', data: null }]);
    expect((await rest(fx.doctor, 'GET', `/api/files/${file.uuid}`)).statusCode).toBe(404);
  });

  it('delivers REST creates, updates and deletes in commit order, deletes as tombstones', async () => {
    const fx = await createOrganization(app, 'REST');
    const start = (await pullAll(fx.doctor)).cursor;
    const created = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Jean Dupont' })).json();
    const updated = (
      await rest(fx.doctor, 'PATCH', `/api/patients/${created.uuid}`, { name: 'Jean Dupont-Martin' })
    ).json();
    expect((await rest(fx.doctor, 'DELETE', `/api/patients/${created.uuid}`)).statusCode).toBe(200);
    const { changes } = await pullAll(fx.doctor, start);
    expect(changes).toEqual([
      { entity: 'patients', uuid: created.uuid, action: 'upsert', data: created },
      { entity: 'patients', uuid: created.uuid, action: 'upsert', data: updated },
      { entity: 'patients', uuid: created.uuid, action: 'delete', data: null },
    ]);
    // Each change also has its activity-log entry, from the same transaction.
    const actions = await owner.db
      .selectFrom('medreport.activity_log')
      .select('action')
      .where('entity_uuid', '=', created.uuid)
      .orderBy('id')
      .execute();
    expect(actions.map((r) => r.action)).toEqual(['patient.created', 'patient.updated', 'patient.deleted']);
  });
});

describe('push semantics', () => {
  it('replaying a batch gives the same answer and changes nothing', async () => {
    const fx = await createOrganization(app, 'Rejeu');
    const batch = {
      patients: [
        { uuid: randomUUID(), name: 'Un', updated_at: iso(-2000) },
        { uuid: randomUUID(), name: 'Deux', phone: '+221770000000', updated_at: iso(-1000) },
      ],
    };
    const first = await pushBatch(fx.doctor, batch);
    const feed = await feedCount(fx.organization.id);
    const rows = await owner.db
      .selectFrom('medreport.patients')
      .selectAll()
      .where('organization_id', '=', fx.organization.id)
      .execute();
    const again = await pushBatch(fx.doctor, batch);
    expect(again.results).toEqual(first.results);
    expect(again.errors).toEqual([]);
    expect(await feedCount(fx.organization.id)).toBe(feed);
    expect(
      await owner.db
        .selectFrom('medreport.patients')
        .selectAll()
        .where('organization_id', '=', fx.organization.id)
        .execute(),
    ).toEqual(rows);
  });

  it('last writer wins: an older item comes back as a conflict with the server’s copy', async () => {
    const fx = await createOrganization(app, 'Conflit');
    const uuid = randomUUID();
    await pushBatch(fx.doctor, { patients: [{ uuid, name: 'Version du téléphone', updated_at: iso(-60_000) }] });
    const current = (await rest(fx.owner, 'PATCH', `/api/patients/${uuid}`, { name: 'Version du cabinet' })).json();
    const stale = await pushBatch(fx.doctor, {
      patients: [{ uuid, name: 'Ancienne édition', updated_at: iso(-30_000) }],
    });
    expect(stale.results.patients).toEqual([
      { uuid, status: 'conflict', updated_at: current.updated_at, data: current },
    ]);
    expect((await rest(fx.owner, 'GET', `/api/patients/${uuid}`)).json().name).toBe('Version du cabinet');
    // A newer edit wins.
    const newer = await pushBatch(fx.doctor, { patients: [{ uuid, name: 'Édition récente', updated_at: iso() }] });
    expect(newer.results.patients![0]).toMatchObject({ uuid, status: 'ok' });
    expect((await rest(fx.owner, 'GET', `/api/patients/${uuid}`)).json().name).toBe('Édition récente');
  });

  it('REST edits and pushes of the same record at once all answer, in one order or the other', async () => {
    const fx = await createOrganization(app, 'Simultané');
    const uuid = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Disputé' })).json().uuid;
    const start = (await pullAll(fx.doctor)).cursor;
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        rest(fx.owner, 'PATCH', `/api/patients/${uuid}`, { notes: `cabinet ${i}` }),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/sync/batch',
          headers: fx.doctor.headers,
          payload: { patients: [{ uuid, notes: `téléphone ${i}`, updated_at: iso() }] },
        }),
      ),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    for (const pushed of answers.slice(10).map((r) => r.json())) {
      expect(pushed.errors).toEqual([]);
      expect(['ok', 'conflict']).toContain(pushed.results.patients[0].status);
    }
    // The feed, in commit order, ends with the record as it is.
    const { changes } = await pullAll(fx.doctor, start);
    expect(changes.at(-1)!.data).toEqual((await rest(fx.owner, 'GET', `/api/patients/${uuid}`)).json());
  });

  it('decides on the row as the writer it waited for committed it', async () => {
    // A push reads the rows it decides on after taking the organization's lock; a read in the
    // statement that takes the lock would see the snapshot of before the wait, a row still alive.
    const fx = await createOrganization(app, 'Attente');
    const uuid = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Bientôt supprimé' })).json().uuid;
    const pushed = await whileDeletionHeld(app, fx, uuid, () =>
      pushBatch(fx.doctor, { patients: [{ uuid, name: 'Modifié hors ligne', updated_at: iso() }] }),
    );
    expect(pushed.results.patients).toEqual([{ uuid, status: 'conflict', updated_at: expect.any(String), data: null }]);
  });

  it('refuses 101 items of one entity with 422 and applies nothing', async () => {
    const fx = await createOrganization(app, 'Trop');
    const feed = await feedCount(fx.organization.id);
    const res = await app.inject({
      method: 'POST',
      url: '/api/sync/batch',
      headers: fx.doctor.headers,
      payload: {
        patients: Array.from({ length: 101 }, (_, i) => ({ uuid: randomUUID(), name: `P${i}`, updated_at: iso() })),
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ success: false, errors: { patients: [expect.stringContaining('100')] } });
    expect(await feedCount(fx.organization.id)).toBe(feed);
    const { n } = await owner.db
      .selectFrom('medreport.patients')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('organization_id', '=', fx.organization.id)
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(0);
  });

  it('never touches another organization’s record, and says nothing about it', async () => {
    const theirs = (await rest(a.doctor, 'POST', '/api/patients', { name: 'Patient de A' })).json();
    const before = await owner.db
      .selectFrom('medreport.patients')
      .selectAll()
      .where('uuid', '=', theirs.uuid)
      .execute();
    const pushed = await pushBatch(b.doctor, {
      patients: [
        { uuid: theirs.uuid, name: 'Détourné', updated_at: iso() },
        { uuid: theirs.uuid.toUpperCase(), deleted: true, updated_at: iso() },
      ],
      prescriptions: [{ uuid: randomUUID(), patient_uuid: theirs.uuid, medication: 'X', updated_at: iso() }],
    });
    expect(pushed.results.patients).toEqual([]);
    expect(pushed.errors).toHaveLength(3);
    expect(pushed.errors).toEqual(
      expect.arrayContaining([
        {
          entity: 'patients',
          uuid: theirs.uuid,
          code: 'organization_mismatch',
          message: "Cet élément n'appartient pas à votre organisation.",
        },
        expect.objectContaining({
          entity: 'patients',
          code: 'invalid',
          message: 'Cet uuid figure deux fois dans le lot.',
        }),
        expect.objectContaining({
          entity: 'prescriptions',
          code: 'invalid',
          errors: { patient_uuid: expect.any(Array) },
        }),
      ]),
    );
    expect(JSON.stringify(pushed)).not.toContain('Patient de A');
    expect(
      await owner.db.selectFrom('medreport.patients').selectAll().where('uuid', '=', theirs.uuid).execute(),
    ).toEqual(before);
  });

  it('reports bad items one by one and applies the others; server-owned fields are ignored', async () => {
    const fx = await createOrganization(app, 'Mélange');
    const good = randomUUID();
    const pushed = await pushBatch(fx.doctor, {
      patients: [
        {
          uuid: good,
          name: 'Valide',
          updated_at: iso(),
          organization_id: a.organization.id,
          created_by: a.doctor.user.id,
          deleted_at: '2001-01-01T00:00:00Z',
          created_at: '2001-01-01T00:00:00Z',
        },
        { uuid: randomUUID(), name: 'Courriel', email: 'pas-un-email', updated_at: iso() },
        { uuid: randomUUID(), name: 'Futur', updated_at: iso(3_600_000) },
        { uuid: 'pas-un-uuid', name: 'X', updated_at: iso() },
        { uuid: randomUUID(), updated_at: iso() },
      ],
      prescriptions: [{ uuid: randomUUID(), patient_uuid: randomUUID(), medication: 'Orpheline', updated_at: iso() }],
    });
    expect(pushed.results.patients).toEqual([{ uuid: good, status: 'ok', updated_at: expect.any(String) }]);
    expect(pushed.errors.map((e) => [e.entity, e.code, Object.keys(e.errors ?? {})]).sort()).toEqual([
      ['patients', 'invalid', ['email']],
      ['patients', 'invalid', ['name']],
      ['patients', 'invalid', ['updated_at']],
      ['patients', 'invalid', ['uuid']],
      ['prescriptions', 'invalid', ['patient_uuid']],
    ]);
    const row = await owner.db
      .selectFrom('medreport.patients')
      .selectAll()
      .where('uuid', '=', good)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ organization_id: fx.organization.id, created_by: fx.doctor.user.id, deleted_at: null });
    expect(row.created_at.getFullYear()).toBeGreaterThan(2020);
  });

  it('answers a cursor that skips the device’s own writes and nothing else', async () => {
    const fx = await createOrganization(app, 'Curseur');
    const device = (await pullAll(fx.doctor)).cursor;
    const elsewhere = (await rest(fx.owner, 'POST', '/api/patients', { name: 'Créé au cabinet' })).json();
    const mine = randomUUID();
    const pushed = await pushBatch(fx.doctor, {
      cursor: device,
      patients: [{ uuid: mine, name: 'Créé hors ligne', updated_at: iso() }],
    });
    const later = (await rest(fx.owner, 'POST', '/api/patients', { name: 'Créé ensuite' })).json();
    const { changes } = await pullAll(fx.doctor, pushed.cursor);
    expect(changes.map((c) => c.uuid)).toEqual([elsewhere.uuid, later.uuid]);
  });

  it('without a cursor, answers one from the device’s last pull; a device never seen starts over', async () => {
    const fx = await createOrganization(app, 'Sans curseur');
    await pullPage(fx.doctor, '', 'tablette'); // a first sync: everything (nothing yet)
    const elsewhere = (await rest(fx.owner, 'POST', '/api/patients', { name: 'Pas encore tiré' })).json();
    const mine = randomUUID();
    const pushed = await pushBatch(
      fx.doctor,
      { patients: [{ uuid: mine, name: 'Poussé sans curseur', updated_at: iso() }] },
      'tablette',
    );
    const { changes } = await pullAll(fx.doctor, pushed.cursor);
    expect(changes.map((c) => c.uuid)).toEqual([elsewhere.uuid]);

    const everything = [elsewhere.uuid, mine].sort();
    const fresh = await pushBatch(fx.doctor, { patients: [] }, 'telephone-neuf');
    expect((await pullAll(fx.doctor, fresh.cursor)).changes.map((c) => c.uuid).sort()).toEqual(everything);
    // Halfway through a first sync, the device does not have everything yet.
    expect((await pullPage(fx.doctor, 'limit=1', 'lente')).has_more).toBe(true);
    const halfway = await pushBatch(fx.doctor, { patients: [] }, 'lente');
    expect((await pullAll(fx.doctor, halfway.cursor)).changes.map((c) => c.uuid).sort()).toEqual(everything);
  });
});

describe('pulling', () => {
  it('pages with has_more, never splitting or repeating a change', async () => {
    const fx = await createOrganization(app, 'Pages');
    const start = (await pullAll(fx.doctor)).cursor;
    const uuids: string[] = [];
    for (let i = 0; i < 7; i++)
      uuids.push((await rest(fx.doctor, 'POST', '/api/patients', { name: `Patient ${i}` })).json().uuid);
    let cursor = start;
    const seen: string[] = [];
    const flags: boolean[] = [];
    for (;;) {
      const page = await pullPage(fx.doctor, `since=${encodeURIComponent(cursor)}&limit=3`);
      expect(page.changes.patients!.length).toBeLessThanOrEqual(3);
      seen.push(...page.changes.patients!.map((c) => c.uuid));
      flags.push(page.has_more);
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    expect(seen).toEqual(uuids);
    expect(flags).toEqual([true, true, false]);
  });

  it('a first sync without `since` reads every live record, those not in the feed too', async () => {
    const fx = await createOrganization(app, 'Premier');
    const viaApi = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Par API' })).json().uuid;
    const deleted = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Supprimé' })).json().uuid;
    await rest(fx.doctor, 'DELETE', `/api/patients/${deleted}`);
    // Imported straight into the table (as seed:demo does): never in the feed.
    const imported = randomUUID();
    await owner.db
      .insertInto('medreport.patients')
      .values({ organization_id: fx.organization.id, uuid: imported, name: 'Importé' })
      .execute();
    await owner.pool.query('select pg_sleep(0)');
    const { changes, cursor } = await pullAll(fx.doctor, undefined, 'limit=1');
    expect(changes.map((c) => c.uuid).sort()).toEqual([viaApi, imported].sort());
    expect(changes.every((c) => c.action === 'upsert')).toBe(true);
    // From there, the feed.
    const next = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Ensuite' })).json().uuid;
    expect((await pullAll(fx.doctor, cursor)).changes.map((c) => c.uuid)).toEqual([next]);
  });

  it('accepts an ISO 8601 instant for a first sync, and entities[] to choose', async () => {
    const fx = await createOrganization(app, 'Depuis');
    await rest(fx.doctor, 'POST', '/api/patients', { name: 'Avant' });
    await sleep(20);
    const since = new Date().toISOString();
    await sleep(20);
    const after = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Après' })).json().uuid;
    const page = await pullPage(fx.doctor, `since=${encodeURIComponent(since)}&entities[]=patients&entities[]=files`);
    expect(Object.keys(page.changes)).toEqual(['patients', 'files']);
    expect(page.changes.patients!.map((c) => c.uuid)).toEqual([after]);
  });

  it('shows an organization its own changes only', async () => {
    const mine = (await rest(b.doctor, 'POST', '/api/patients', { name: 'De B' })).json().uuid;
    const theirs = (await rest(a.doctor, 'POST', '/api/patients', { name: 'De A' })).json().uuid;
    const seenByB = (await pullAll(b.owner)).changes.map((c) => c.uuid);
    expect(seenByB).toContain(mine);
    expect(seenByB).not.toContain(theirs);
  });

  it('answers 410 to a cursor older than the retained history, and to an instant before it', async () => {
    const fx = await createOrganization(app, 'Expiré');
    await rest(fx.doctor, 'POST', '/api/patients', { name: 'Ancien' });
    const old = (await pullAll(fx.doctor)).cursor;
    const later = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Récent' })).json().uuid;
    // Retention passes: everything committed so far is pruned (as the hourly job would).
    await owner.pool.query(`select medreport.prune_sync_changes(clock_timestamp() + interval '1 second')`);
    const gone = await app.inject({
      method: 'GET',
      url: `/api/sync/changes?since=${encodeURIComponent(old)}`,
      headers: fx.doctor.headers,
    });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ success: false, message: expect.stringContaining('resynchronisez') });
    const ancient = await app.inject({
      method: 'GET',
      url: '/api/sync/changes?since=2001-01-01T00:00:00Z',
      headers: fx.doctor.headers,
    });
    expect(ancient.statusCode).toBe(410);
    // A resync from scratch still has every live record.
    expect((await pullAll(fx.doctor)).changes.map((c) => c.uuid)).toContain(later);
  });

  it('reads a page as a range of the feed’s primary key that stops at the limit', async () => {
    // O(page), not O(history): an index scan in seq order, no sort of everything after the cursor.
    // A history long enough for the plan to matter (written directly: a fixture, not a mutation).
    const fx = await createOrganization(app, 'Plan');
    await sql`
      insert into medreport.changes (organization_id, entity, uuid, action)
      select ${fx.organization.id}, 'patients', gen_random_uuid(), 'delete' from generate_series(1, 20000)`.execute(
      owner.db,
    );
    await sql`analyze medreport.changes`.execute(owner.db);
    const db = app.tenantPool.forOrganization(fx.organization.id);
    const plan = await db.transaction().execute(async (trx) => {
      // As a prepared statement reused many times would be planned: without the values.
      await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
      const query = feedQuery(trx, SYNC_ENTITIES, { kind: 'changes', seq: 0, skip: [5, 9] }, 501);
      return (await query.explain()).map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/^Limit/);
    expect(plan).toMatch(/Index Scan using changes_pkey on changes/);
    expect(plan).not.toMatch(/Sort|Seq Scan|Bitmap/);
  });

  it('refuses a cursor it did not make with 422', async () => {
    for (const since of ['garbage', Buffer.from('{"v":1,"c":-1}').toString('base64url')]) {
      const res = await app.inject({
        method: 'GET',
        url: `/api/sync/changes?since=${since}`,
        headers: a.doctor.headers,
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toHaveProperty('since');
    }
  });
});

describe('GET /api/sync/status', () => {
  it('tells a device what is pending, what failed, and when it last synced', async () => {
    const fx = await createOrganization(app, 'Statut');
    const device = 'tablette-1';
    const status = async () =>
      (
        await app.inject({
          method: 'GET',
          url: '/api/sync/status',
          headers: { ...fx.doctor.headers, 'x-device-id': device },
        })
      ).json();
    expect(await status()).toEqual({ pending_count: 0, error_count: 0, last_sync_at: null, errors: [] });

    await rest(fx.owner, 'POST', '/api/patients', { name: 'Un' });
    await rest(fx.owner, 'POST', '/api/patients', { name: 'Deux' });
    expect((await status()).pending_count).toBe(2);
    await pullPage(fx.doctor, `since=${encodeURIComponent((await pullPage(fx.doctor, '', device)).cursor)}`, device);
    expect((await status()).pending_count).toBe(0);

    await pushBatch(
      fx.doctor,
      { patients: [{ uuid: randomUUID(), email: 'x', name: 'Mauvais', updated_at: iso() }] },
      device,
    );
    const after = await status();
    expect(after).toMatchObject({ pending_count: 0, error_count: 1, last_sync_at: expect.any(String) });
    expect(after.errors).toEqual([
      {
        timestamp: expect.any(String),
        message: expect.any(String),
        metadata: expect.objectContaining({ entity: 'patients', code: 'invalid' }),
      },
    ]);
    // Another device of the same user has its own state.
    const other = await app.inject({
      method: 'GET',
      url: '/api/sync/status',
      headers: { ...fx.doctor.headers, 'x-device-id': 'telephone' },
    });
    expect(other.json()).toMatchObject({ error_count: 0, last_sync_at: null });
  });
});

describe('commit order under concurrency', () => {
  // The naive design keeps `updated_at` as the cursor: `where updated_at > since`. A row's
  // updated_at is its transaction's start (or any time before its commit), so a transaction that
  // starts first and commits last is invisible to a reader that already moved past a later one:
  //
  //   T1 begins (updated_at = t0) ... holds ...
  //   T2 begins (t1 > t0), commits          reader: since = t1
  //   T1 commits                            reader: updated_at > t1 ? t0 is not: T1 is never seen
  //
  // Below, a naive reader runs beside the real one and is shown to miss T1's patient, while the
  // feed's cursor delivers every change: its seq is drawn at the write, under the organization's
  // lock held to commit, so seq order is commit order. (The lock makes writers of one
  // organization commit one after the other from their first write on, which is why the
  // transactions here are held open before writing: they still begin first and commit last.)
  it('delivers every committed change and tombstone to a reader following cursors, however commits interleave', async () => {
    const fx = await createOrganization(app, 'Concurrence');
    const scope = {
      db: app.tenantPool.forOrganization(fx.organization.id),
      organizationId: fx.organization.id,
      actor: { id: fx.doctor.user.id, name: 'Transaction tenue' },
      deviceId: 'held',
    };
    let cursor = (await pullAll(fx.doctor)).cursor;
    const received: Array<Change & { entity: string }> = [];
    const follow = async () => {
      const page = await pullAll(fx.doctor, cursor);
      received.push(...page.changes);
      cursor = page.cursor;
    };
    let naiveSince = new Date(0);
    const naiveSeen = new Set<string>();
    const followNaively = async () => {
      const rows = await owner.db
        .selectFrom('medreport.patients')
        .select(['uuid', 'updated_at'])
        .where('organization_id', '=', fx.organization.id)
        .where('updated_at', '>', naiveSince)
        .execute();
      for (const row of rows) {
        naiveSeen.add(row.uuid);
        if (row.updated_at > naiveSince) naiveSince = row.updated_at;
      }
    };

    // T1 starts first and holds its transaction open while others commit.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const started = new Promise<void>((resolve) => (inserted = resolve));
    const late = randomUUID();
    const t1 = mutate(scope, async (m) => {
      await sql`select now()`.execute(m.trx); // the transaction has begun: its now() is fixed
      inserted();
      await held;
      await m.insert(patientRecords, [{ uuid: late, name: 'Commit tardif', created_by: fx.doctor.user.id }]);
    });
    await started;
    await sleep(5);
    const early = (await rest(fx.doctor, 'POST', '/api/patients', { name: 'Commit rapide' })).json().uuid;
    await follow();
    await followNaively();
    release();
    await t1;
    // T1 has committed: the naive reader, already past T1's updated_at, cannot find its patient.
    await followNaively();
    const naiveSawLate = naiveSeen.has(late);

    // Then many writers at once, some of them holding their transactions a while.
    const created: string[] = [early, late];
    const writers = [
      ...Array.from({ length: 4 }, (_, w) => async () => {
        for (let round = 0; round < 5; round++) {
          const batch = Array.from({ length: 5 }, (_, i) => ({
            uuid: randomUUID(),
            name: `Lot ${w}.${round}.${i}`,
            updated_at: iso(),
          }));
          created.push(...batch.map((p) => p.uuid));
          await pushBatch(fx.doctor, { patients: batch });
        }
      }),
      async () => {
        for (let i = 0; i < 10; i++) {
          const uuid = randomUUID();
          created.push(uuid);
          await mutate(scope, async (m) => {
            await sql`select now()`.execute(m.trx);
            await sleep(15); // begun early, written and committed late
            await m.insert(patientRecords, [{ uuid, name: `Tenu ${i}`, created_by: fx.doctor.user.id }]);
          });
        }
      },
      async () => {
        for (let i = 0; i < 10; i++) {
          const uuid = randomUUID();
          created.push(uuid);
          await mutate(scope, async (m) => {
            await m.insert(patientRecords, [{ uuid, name: `Verrou ${i}`, created_by: fx.doctor.user.id }]);
            await sleep(10); // written, committed late: without the lock, others would overtake its seq
          });
        }
      },
      async () => {
        for (let i = 0; i < 15; i++) {
          const uuid = created[Math.floor(Math.random() * created.length)]!;
          await rest(fx.owner, 'PATCH', `/api/patients/${uuid}`, { notes: `note ${i}` });
          if (i % 3 === 0) await rest(fx.owner, 'DELETE', `/api/patients/${uuid}`);
        }
      },
    ];
    let writing = true;
    const reader = (async () => {
      while (writing) {
        await follow();
        await sleep(3);
      }
    })();
    await Promise.all(writers.map((w) => w()));
    writing = false;
    await reader;
    await follow();

    // What the reader assembled, change after change, is exactly what is committed.
    const replica = new Map<string, Record<string, unknown>>();
    for (const change of received) {
      if (change.action === 'delete') replica.delete(change.uuid);
      else replica.set(change.uuid, change.data!);
    }
    const live = (await rest(fx.owner, 'GET', '/api/patients?limit=100')).json();
    const stored = new Map<string, unknown>();
    for (let page = 1; page <= Math.ceil(live.total / 100); page++) {
      for (const p of (await rest(fx.owner, 'GET', `/api/patients?limit=100&page=${page}`)).json().data)
        stored.set(p.uuid, p);
    }
    expect(replica).toEqual(stored);
    const committed = await owner.db
      .selectFrom('medreport.patients')
      .select(['uuid', 'deleted_at'])
      .where('organization_id', '=', fx.organization.id)
      .execute();
    const receivedUuids = new Set(received.map((c) => c.uuid));
    for (const row of committed) expect(receivedUuids.has(row.uuid), row.uuid).toBe(true);
    const tombstones = new Set(received.filter((c) => c.action === 'delete').map((c) => c.uuid));
    expect([...tombstones].sort()).toEqual(
      committed
        .filter((r) => r.deleted_at)
        .map((r) => r.uuid)
        .sort(),
    );

    // The naive reader lost the transaction that committed late (until an edit, later, happened
    // to touch that patient again); the feed did not.
    expect(receivedUuids.has(late)).toBe(true);
    expect(naiveSawLate).toBe(false);
  });
});

describe('rate limit', () => {
  it('allows 60 sync requests an hour per user', async () => {
    const limited = await buildTestApp({ config: { rateLimits: true } });
    try {
      const fx = await createOrganization(limited, 'Limite');
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) {
        statuses.push(
          (await limited.inject({ method: 'GET', url: '/api/sync/status', headers: fx.doctor.headers })).statusCode,
        );
      }
      expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true);
      expect(statuses[60]).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
