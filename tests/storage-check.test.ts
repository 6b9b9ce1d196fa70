import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListedObject, Storage, StorageSettings } from '../adapters/storage/index.js';
import { appRolePassword, appRoleUrl } from '../db/app-role.js';
import { connect, type DatabaseHandle } from '../db/connection.js';
import { checkStorage, fixStorage, type StorageReference } from '../domain/shared/storage-check.js';
import { ORPHANS_JOB } from '../plugins/storage.js';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { runCli } from './helpers/cli.js';
import { clonedDatabaseUrl, testDb } from './helpers/database.js';
import { multipart, PNG } from './helpers/multipart.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from './helpers/ptitspas.js';
import { PDF, uploaded } from './helpers/ptitspas-files.js';
import { startS3 } from './helpers/s3.js';
import { createOrganization, type TenantFixture } from './helpers/tenants.js';
import { TEST_JWT_SECRET } from './helpers/urls.js';

const HOUR = 3600_000;
/** Every object counts as old enough: what a test passes instead of waiting out the grace. */
const future = () => new Date(Date.now() + 60_000);
/** The CLI's default: objects of the last hour are uploads in progress, never orphans. */
const withGrace = () => new Date(Date.now() - HOUR);

const pdf = (label: string) => Buffer.from(`%PDF-1.4\n% ${label} ${randomUUID()}\n%%EOF\n`);

async function allKeys(storage: Storage): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list()) keys.push(object.key);
  return keys.sort();
}

async function bytesOf(storage: Storage, key: string): Promise<Buffer | undefined> {
  const stored = await storage.get(key);
  return stored && buffer(stored.stream);
}

const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);

/** A MedReport file of `patient`, uploaded through POST /api/files; its uuid. */
async function medreportFile(app: App, fx: TenantFixture, patient: string, data: Buffer): Promise<string> {
  const form = multipart({
    owner_type: 'patient',
    owner_uuid: patient,
    file: { filename: `${randomUUID()}.pdf`, contentType: 'application/pdf', data },
  });
  const res = await app.inject({
    method: 'POST',
    url: '/api/files',
    headers: { ...fx.doctor.headers, ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  expect(res.json()).toMatchObject({ size: data.length, mime_type: 'application/pdf' });
  return res.json().uuid;
}

/** The rows the scenario makes, through the API, and the bytes each one's object holds. */
interface Fixture {
  fx: TenantFixture;
  parent: PtitsPasAccount;
  file: { uuid: string; key: string; data: Buffer };
  deletedFile: { uuid: string; key: string; data: Buffer };
  avatar: { userId: number; key: string; data: Buffer };
  upload: { id: string; key: string; data: Buffer };
  lost: { id: string; key: string; data: Buffer };
}

/**
 * A MedReport file, one soft-deleted (its bytes still referenced), an avatar, and two PtitsPas
 * uploads: every kind of row that points at an object.
 */
async function makeRows(app: App, owner: DatabaseHandle): Promise<Fixture> {
  const fx = await createOrganization(app, `Stockage ${randomUUID().slice(0, 8)}`);
  const patient = await app.inject({
    method: 'POST',
    url: '/api/patients',
    headers: fx.doctor.headers,
    payload: { name: 'Jeanne Stockage' },
  });
  expect(patient.statusCode, patient.body).toBe(201);
  const fileData = pdf('compte rendu');
  const deletedData = pdf('ancienne version');
  const fileUuid = await medreportFile(app, fx, patient.json().uuid, fileData);
  const deletedUuid = await medreportFile(app, fx, patient.json().uuid, deletedData);
  const pushed = await app.inject({
    method: 'POST',
    url: '/api/sync/batch',
    headers: fx.doctor.headers,
    payload: { files: [{ uuid: deletedUuid, deleted: true, updated_at: new Date().toISOString() }] },
  });
  expect(pushed.statusCode, pushed.body).toBe(200);
  expect(pushed.json().results.files).toEqual([{ uuid: deletedUuid, status: 'ok', updated_at: expect.any(String) }]);

  const form = multipart({ avatar: { filename: 'me.png', contentType: 'image/png', data: PNG } });
  const profile = await app.inject({
    method: 'PUT',
    url: '/api/user/profile',
    headers: { ...fx.owner.headers, ...form.headers },
    payload: form.payload,
  });
  expect(profile.statusCode, profile.body).toBe(200);
  const avatarName = profile.json().user.avatar as string;
  expect(avatarName).toMatch(/^[A-Za-z0-9_-]{22}\.png$/);

  const admin = await ptitspasSuperAdmin(app);
  const parent = await ptitspasAccount(app, admin, 'parent');
  const child = await app.inject({
    method: 'POST',
    url: '/api/v1/enfants',
    headers: parent.headers,
    payload: { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2021-01-15' },
  });
  expect(child.statusCode, child.body).toBe(201);
  const uploadData = pdf('carnet');
  const uploadId = await uploaded(app, parent, { idEnfant: child.json().id, data: uploadData });
  const lostId = await uploaded(app, parent, { categorie: 'attestation_assurance', data: PDF });

  const files = await owner.db
    .selectFrom('medreport.files')
    .select(['uuid', 'path', 'deleted_at'])
    .where('uuid', 'in', [fileUuid, deletedUuid])
    .execute();
  const pathOf = (uuid: string) => files.find((f) => f.uuid === uuid)!;
  expect(pathOf(fileUuid).deleted_at).toBeNull();
  expect(pathOf(deletedUuid).deleted_at).toBeInstanceOf(Date);
  const uploads = await owner.db
    .selectFrom('ptitspas.uploads')
    .select(['id', 'cle'])
    .where('id', 'in', [uploadId, lostId])
    .execute();
  const cleOf = (id: string) => uploads.find((u) => u.id === id)!.cle;
  return {
    fx,
    parent,
    file: { uuid: fileUuid, key: pathOf(fileUuid).path, data: fileData },
    deletedFile: { uuid: deletedUuid, key: pathOf(deletedUuid).path, data: deletedData },
    avatar: { userId: fx.owner.user.id, key: `avatars/${avatarName}`, data: PNG },
    upload: { id: uploadId, key: cleOf(uploadId), data: uploadData },
    lost: { id: lostId, key: cleOf(lostId), data: PDF },
  };
}

describe.each(['local', 's3'] as const)('checkStorage and fixStorage, %s backend', (kind) => {
  let app: App;
  let owner: DatabaseHandle;
  let s3: Awaited<ReturnType<typeof startS3>> | undefined;
  let spoolDir: string | undefined;

  beforeAll(async () => {
    // A database of its own: the check reads every row, and the other backend's rows point at
    // objects this storage never had.
    const url = await clonedDatabaseUrl();
    owner = connect(url, { max: 2 });
    let storage: StorageSettings | undefined;
    if (kind === 's3') {
      s3 = await startS3();
      spoolDir = await mkdtemp(path.join(tmpdir(), 'check-spool-'));
      storage = { backend: 's3', ...s3.settings(spoolDir) };
    }
    app = await buildTestApp({
      config: { databaseUrl: appRoleUrl(url, appRolePassword(TEST_JWT_SECRET)), ...(storage ? { storage } : {}) },
    });
  });
  afterAll(async () => {
    await app?.close();
    await owner?.db.destroy();
    await s3?.close();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  });

  it('reports orphans past the grace and rows whose object is gone; the fix removes only the orphans', async () => {
    const rows = await makeRows(app, owner);
    const { storage } = app;
    const backed = [rows.file, rows.deletedFile, rows.avatar, rows.upload, rows.lost];
    expect(await allKeys(storage)).toEqual(backed.map((r) => r.key).sort());

    expect(await checkStorage(owner.db, storage, { olderThan: future() })).toEqual({
      orphanObjects: [],
      missingObjects: [],
      scanned: 5,
      rows: 5,
    });

    // A crash between an object and its row; a write a killed process left; objects that are
    // none of the server's (a backup in the same bucket, a look-alike prefix): never touched.
    const orphan = `org_${rows.fx.organization.id}/2020/01/${randomUUID()}`;
    const leftover = `tmp/crashed-host-4242/${randomUUID()}.partial`;
    const foreign = ['backups/db.dump', 'org_archive/notes.pdf'];
    await storage.put(orphan, pdf('orphelin'), { maxBytes: 1024 });
    await storage.put(leftover, Buffer.alloc(300), { maxBytes: 1024 });
    for (const key of foreign) await storage.put(key, Buffer.from('not ours'), { maxBytes: 1024 });
    // Bytes lost outside the server: the row stays, its object is gone.
    await storage.remove(rows.lost.key);
    const missing = [{ table: 'ptitspas.uploads', id: rows.lost.id, key: rows.lost.key }];

    // Within the grace, a new object may be an upload whose row is not committed yet.
    expect(await checkStorage(owner.db, storage, { olderThan: withGrace() })).toEqual({
      orphanObjects: [],
      missingObjects: missing,
      scanned: 6,
      rows: 5,
    });

    const report = await checkStorage(owner.db, storage, { olderThan: future() });
    const orphans = [
      { key: orphan, size: (await bytesOf(storage, orphan))!.length, modified: expect.any(Date) },
      { key: leftover, size: 300, modified: expect.any(Date) },
    ].sort(byKey);
    expect({ ...report, orphanObjects: [...report.orphanObjects].sort(byKey) }).toEqual({
      orphanObjects: orphans,
      missingObjects: missing,
      scanned: 6,
      rows: 5,
    });
    // Rows read a few at a time (keyset pages) give the same report.
    const paged = await checkStorage(owner.db, storage, { olderThan: future(), batchSize: 1 });
    expect({ ...paged, orphanObjects: [...paged.orphanObjects].sort(byKey) }).toEqual({
      orphanObjects: orphans,
      missingObjects: missing,
      scanned: 6,
      rows: 5,
    });

    const fixed = await fixStorage(owner.db, storage, report);
    expect({ ...fixed, removed: [...fixed.removed].sort(byKey) }).toEqual({ removed: orphans, kept: [], failed: [] });
    const alive = [rows.file, rows.deletedFile, rows.avatar, rows.upload];
    expect(await allKeys(storage)).toEqual([...alive.map((r) => r.key), ...foreign].sort());
    for (const row of alive) expect(await bytesOf(storage, row.key), row.key).toEqual(row.data);
    // Through the API too: the file and the upload still download, byte for byte.
    const file = await app.inject({
      method: 'GET',
      url: `/api/files/${rows.file.uuid}`,
      headers: rows.fx.doctor.headers,
    });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload).toEqual(rows.file.data);
    const content = await app.inject({
      method: 'GET',
      url: `/api/v1/uploads/${rows.upload.id}/contenu`,
      headers: rows.parent.headers,
    });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload).toEqual(rows.upload.data);
    // No row was touched: the lost upload's row is still there, for someone to decide about.
    const counts = await Promise.all([
      owner.db
        .selectFrom('medreport.files')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      owner.db
        .selectFrom('ptitspas.uploads')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    expect(counts.map((c) => Number(c.n))).toEqual([2, 2]);

    expect(await checkStorage(owner.db, storage, { olderThan: future() })).toEqual({
      orphanObjects: [],
      missingObjects: missing,
      scanned: 4,
      rows: 5,
    });
  });

  it('keeps an orphan of an old report that a row references by now', async () => {
    const before = await allKeys(app.storage);
    let avatar: ListedObject | undefined;
    for await (const object of app.storage.list('avatars/')) avatar = object;
    expect(avatar?.key).toMatch(/^avatars\/[A-Za-z0-9_-]{22}\.png$/);
    const stale = { orphanObjects: [avatar!], missingObjects: [], scanned: 1, rows: 0 };
    expect(await fixStorage(owner.db, app.storage, stale)).toEqual({ removed: [], kept: [avatar], failed: [] });
    expect(await allKeys(app.storage)).toEqual(before);
  });

  it('looks up on its own a row whose key is outside the prefixes it lists', async () => {
    const before = await checkStorage(owner.db, app.storage, { olderThan: future() });
    // A row written by hand (an import from another system), its object where the server never writes.
    const id = randomUUID();
    const key = `imported/${id}.pdf`;
    await app.storage.put(key, PDF, { maxBytes: 1024 });
    await owner.db
      .insertInto('ptitspas.uploads')
      .values({
        id,
        nom: 'ancien.pdf',
        type_mime: 'application/pdf',
        taille: PDF.length,
        sha256: 'a'.repeat(64),
        categorie: 'autre',
        cle: key,
      })
      .execute();
    try {
      expect(await checkStorage(owner.db, app.storage, { olderThan: future() })).toEqual({
        ...before,
        rows: before.rows + 1,
      });
      await app.storage.remove(key);
      // Rows come in id order, and this id is random: compared in one order.
      const byId = (list: StorageReference[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
      const report = await checkStorage(owner.db, app.storage, { olderThan: future() });
      expect({ ...report, missingObjects: byId(report.missingObjects) }).toEqual({
        ...before,
        missingObjects: byId([...before.missingObjects, { table: 'ptitspas.uploads', id, key }]),
        rows: before.rows + 1,
      });
    } finally {
      await owner.db.deleteFrom('ptitspas.uploads').where('id', '=', id).execute();
    }
  });

  it.runIf(kind === 'local')(
    'refuses a connection that row-level security narrows, reads through the cross-organization handle',
    async () => {
      const olderThan = future();
      await expect(checkStorage(app.systemDb, app.storage, { olderThan })).rejects.toThrow(
        'the storage check needs a connection that sees every row of medreport.files (row-level security hides some from this one)',
      );
      expect(await checkStorage(app.crossOrganizationDb, app.storage, { olderThan })).toEqual(
        await checkStorage(owner.db, app.storage, { olderThan }),
      );
    },
  );
});

describe('npm run cli -- storage:check', () => {
  let app: App;
  let owner: DatabaseHandle;
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    // The file's own database, which nothing else here writes; a storage directory the CLI is told of.
    owner = await testDb();
    dataDir = await mkdtemp(path.join(tmpdir(), 'check-cli-'));
    root = path.join(dataDir, 'files');
    app = await buildTestApp({ config: { storage: { backend: 'local', root } } });
  });
  afterAll(async () => {
    await app?.close();
    await owner?.db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    runCli(['storage:check', ...args], { env: { STORAGE_DIR: root, DATA_DIR: dataDir } });
  const stdoutLines = (out: string) => out.split('\n');

  /** An object written straight to the directory, last modified `ageMs` ago. */
  async function writeObject(key: string, data: Buffer, ageMs: number) {
    const file = path.join(root, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    const at = new Date(Date.now() - ageMs);
    await utimes(file, at, at);
  }
  const exists = (key: string) =>
    readFile(path.join(root, key)).then(
      () => true,
      () => false,
    );

  it('answers 0 when clean, 1 with orphans or missing objects, and --fix removes the orphans only', async () => {
    const rows = await makeRows(app, owner);
    const clean = await cli();
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    const [header, verdict] = stdoutLines(clean.stdout);
    expect(header).toMatch(/ left out of the orphans$/);
    expect(header!.startsWith(`local directory ${root}: 5 objects listed, 5 rows pointing at objects; `)).toBe(true);
    expect(verdict).toBe('storage is consistent: every object has its row, every row its object');

    const orgId = rows.fx.organization.id;
    const old = [`org_${orgId}/2020/01/${randomUUID()}`, `tmp/gone-host-1/${randomUUID()}.partial`];
    await writeObject(old[0]!, Buffer.alloc(2048, 1), 2 * HOUR);
    await writeObject(old[1]!, Buffer.alloc(10), 3 * HOUR);
    const recent = `org_${orgId}/2026/01/${randomUUID()}`;
    await writeObject(recent, Buffer.alloc(5), 60_000);
    await rm(path.join(root, rows.lost.key));

    const found = await cli('--limit', '1');
    expect(found.code).toBe(1);
    const lines = stdoutLines(found.stdout);
    expect(lines[0]).toMatch(/^local directory .*: 7 objects listed, 5 rows pointing at objects;/);
    expect(lines.slice(1)).toEqual([
      '',
      '2 orphan objects (no row references them), 2.0 KiB:',
      expect.stringMatching(new RegExp(`^  ${old[0]}  2\\.0 KiB  modified \\d{4}-.*Z$`)),
      '  … and 1 more (--limit to show more)',
      '',
      '1 missing object (rows whose object is not in storage):',
      `  ptitspas.uploads ${rows.lost.id}  ${rows.lost.key}`,
      'These cannot be fixed here:',
      expect.stringMatching(
        /^ {2}ptitspas\.uploads: restore the object from a backup under the same key; .*DELETE \/api\/v1\/uploads\/\{id\}/,
      ),
      '',
      'run again with --fix to remove the orphan objects',
    ]);
    for (const key of [...old, recent]) expect(await exists(key), key).toBe(true);

    const fixed = await cli('--fix');
    expect(fixed.code).toBe(1);
    expect(fixed.stdout).toContain(`  ${old[1]}  10 B  modified `);
    expect(stdoutLines(fixed.stdout).slice(-1)).toEqual(['removed 2 orphan objects, 2.0 KiB']);
    expect(await exists(old[0]!)).toBe(false);
    expect(await exists(old[1]!)).toBe(false);
    // Within the grace: an upload that may still commit its row.
    expect(await exists(recent)).toBe(true);
    for (const row of [rows.file, rows.deletedFile, rows.avatar, rows.upload]) {
      expect(await readFile(path.join(root, row.key)), row.key).toEqual(row.data);
    }

    // The lost bytes come back from a backup; the recent object gets old; one more --fix is clean.
    await writeObject(rows.lost.key, rows.lost.data, 0);
    await utimes(path.join(root, recent), new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
    const last = await cli('--fix', '--grace', '90m');
    expect(last.code).toBe(0);
    expect(stdoutLines(last.stdout).slice(1)).toEqual([
      '',
      '1 orphan object (no row references them), 5 B:',
      expect.stringMatching(new RegExp(`^  ${recent}  5 B  modified `)),
      '',
      'removed 1 orphan object, 5 B',
    ]);
    expect(await cli()).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('storage is consistent'),
    });
  });

  it('refuses a grace that is not a duration', async () => {
    const res = await cli('--grace', 'soon');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      "option '--grace <duration>' argument 'soon' is invalid. a duration such as 90s, 30m, 1h or 2d",
    );
  });

  it('the daily cluster job removes objects no row references once an hour old, and nothing else', async () => {
    const rows = await makeRows(app, owner);
    const orphan = `org_${rows.fx.organization.id}/2020/02/${randomUUID()}`;
    const recent = `org_${rows.fx.organization.id}/2020/03/${randomUUID()}`;
    await writeObject(orphan, Buffer.from('orphelin'), 2 * HOUR);
    await writeObject(recent, Buffer.from('en cours'), 10 * 60_000);
    await owner.db.updateTable('ops.jobs').set({ next_run_at: new Date() }).where('name', '=', ORPHANS_JOB).execute();
    await app.jobs.tick();

    expect(await exists(orphan)).toBe(false);
    expect(await exists(recent)).toBe(true);
    for (const row of [rows.file, rows.deletedFile, rows.avatar, rows.upload, rows.lost]) {
      expect(await readFile(path.join(root, row.key)), row.key).toEqual(row.data);
    }
    const run = await owner.db
      .selectFrom('ops.job_runs')
      .select(['outcome', 'result'])
      .where('job', '=', ORPHANS_JOB)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run.outcome).toBe('done');
    expect(run.result).toBeGreaterThanOrEqual(1);
    await rm(path.join(root, recent));
  });
});
