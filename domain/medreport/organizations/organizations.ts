import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, OrganizationRow } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';

// No 0/O or 1/I: codes are read aloud and typed from paper. 32 symbols × 10 = 50 bits: guessing
// one is hopeless at 3 tries an hour, and two organizations drawing the same code (a unique
// violation, so never a shared code) is about a one-in-a-billion event even with a million of them.
const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const CODE_LENGTH = 10;

function generateCode(): string {
  let code = 'ORG-';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** What people type: spaces and case do not matter. */
function normalizeCode(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

export function createOrganization(db: Kysely<Database>, name: string, ownerUserId: number): Promise<OrganizationRow> {
  return db
    .insertInto('medreport.organizations')
    .values({ uuid: uuidv7(), name, code: generateCode(), owner_user_id: ownerUserId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findOrganizationByCode(db: Kysely<Database>, code: string): Promise<OrganizationRow | undefined> {
  return db
    .selectFrom('medreport.organizations')
    .selectAll()
    .where('code', '=', normalizeCode(code))
    .executeTakeFirst();
}

export function findOrganization(db: Kysely<Database>, id: number): Promise<OrganizationRow> {
  return db.selectFrom('medreport.organizations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export function renameOrganization(db: Kysely<Database>, id: number, name: string): Promise<OrganizationRow> {
  return db
    .updateTable('medreport.organizations')
    .set({ name, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A new code at once; the old one stops working in the same statement. */
export function rotateCode(db: Kysely<Database>, id: number): Promise<OrganizationRow> {
  return db
    .updateTable('medreport.organizations')
    .set({ code: generateCode(), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
