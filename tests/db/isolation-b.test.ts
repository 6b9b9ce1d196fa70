import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { testDb } from '../helpers/database.js';

// isolation-a and isolation-b are the same file twice: they run in parallel and write the same
// unique value. Sharing a database would make one of them fail with a unique violation.
const handle = await testDb();
afterAll(() => handle.db.destroy());

it('writes a unique value no other test file can see', async () => {
  const { db } = handle;
  await sql`create table if not exists public.isolation_probe (value text primary key)`.execute(db);
  await sql`insert into public.isolation_probe (value) values ('same-value-in-every-file')`.execute(db);
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from public.isolation_probe`.execute(db);
  expect(rows[0]?.count).toBe(1);
});
