import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import { type AnySchemaDb, migrate, migrationStatus } from '../../db/migrate.js';
import { migrations } from '../../db/migrations/index.js';
import { emptyDatabaseUrl } from '../helpers/database.js';

const handles: DatabaseHandle[] = [];
afterAll(() => Promise.all(handles.map((h) => h.db.destroy())));

async function freshDatabase(): Promise<AnySchemaDb> {
  const handle = connect(await emptyDatabaseUrl(), { max: 4 });
  handles.push(handle);
  return handle.db;
}

async function schemaNames(db: AnySchemaDb): Promise<string[]> {
  const { rows } = await sql<{ nspname: string }>`
    select nspname from pg_namespace where nspname in ('medreport', 'ptitspas') order by nspname`.execute(db);
  return rows.map((r) => r.nspname);
}

describe('migrations', () => {
  it('apply on an empty database, revert one by one down to nothing, and apply again', async () => {
    const db = await freshDatabase();
    const names = Object.keys(migrations);

    const up = await migrate(db, 'latest');
    expect(up.results?.map((r) => r.migrationName)).toEqual(names);
    expect(await schemaNames(db)).toEqual(['medreport', 'ptitspas']);

    for (const name of [...names].reverse()) {
      const down = await migrate(db, 'down');
      expect(down.results?.map((r) => [r.migrationName, r.status])).toEqual([[name, 'Success']]);
    }
    expect(await schemaNames(db)).toEqual([]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);

    await migrate(db, 'latest');
    expect(await schemaNames(db)).toEqual(['medreport', 'ptitspas']);
    expect((await migrationStatus(db)).every((m) => m.executedAt !== null)).toBe(true);
  });

  it('run once when two instances migrate the same database at the same time', async () => {
    const url = await emptyDatabaseUrl();
    const a = connect(url, { max: 2 });
    const b = connect(url, { max: 2 });
    handles.push(a, b);
    const [ra, rb] = await Promise.all([migrate(a.db, 'latest'), migrate(b.db, 'latest')]);
    const applied = [...(ra.results ?? []), ...(rb.results ?? [])].map((r) => r.migrationName);
    expect(applied.sort()).toEqual(Object.keys(migrations).sort());
  });

  it('names sort in the order they were written', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9_]+$/);
  });
});
