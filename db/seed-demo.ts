import { type Insertable, type Kysely, sql } from 'kysely';
import type { Database, PatientsTable } from './schema.js';

/**
 * Demo data for trying the API by hand and for `npm run bench`: a platform administrator, and
 * organizations, each with an owner and doctors, and patients spread over them. Deterministic
 * (the same options give the same rows, uuids included) and idempotent (rows that exist are left
 * as they are), so it can be run again or resumed after an interruption.
 */
export interface DemoOptions {
  orgs: number;
  usersPerOrg: number;
  /** Spread evenly over the organizations. */
  patients: number;
  /** Patients of one more organization, "Clinique Démo Export" (0: none). */
  largeOrgPatients: number;
  seed: number;
}

export const DEMO_PASSWORD = 'demo passphrase';
const DEMO_DOMAIN = 'demo.medreport.test';

/**
 * The e-mail of user `index` of organization `key` (1, 2, ... or `export`), named by its role
 * (the spec's English role names) and its organization: `owner@org-1.…` (index 0),
 * `doctor.1@org-1.…`, `doctor.2@org-1.…`.
 */
export function demoEmail(key: string | number, index: number): string {
  return `${index === 0 ? 'owner' : `doctor.${index}`}@org-${key}.${DEMO_DOMAIN}`;
}

/** The platform administrator (`/api/admin`), outside any organization. */
const DEMO_ADMIN_EMAIL = `admin@${DEMO_DOMAIN}`;

/** An account of each role the demo has, and what it sees; seed:demo prints them. */
export function medreportDemoAccounts(options: DemoOptions) {
  const orgs = demoOrganizations(options);
  const keys = orgs.filter((o) => o.key !== 'export').length;
  const first = orgs[0]!;
  const owners = [
    keys > 1 ? `owner@org-N for N = 1 to ${keys}` : '',
    options.largeOrgPatients > 0 ? 'owner@org-export' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const accounts = [
    {
      role: 'admin',
      email: DEMO_ADMIN_EMAIL,
      sees: 'platform administration (/api/admin): the accounts of every organization, the dashboard; no patients',
    },
    {
      role: 'owner',
      email: demoEmail(first.key, 0),
      sees: `${first.name}: its patients and records, renaming it, its invitation code${owners ? ` (${owners})` : ''}`,
    },
  ];
  if (options.usersPerOrg > 1) {
    const more = options.usersPerOrg > 2 ? ` (doctor.M@org-N for M = 1 to ${options.usersPerOrg - 1})` : '';
    accounts.push({
      role: 'doctor',
      email: demoEmail(first.key, 1),
      sees: `${first.name}: its patients and records${more}`,
    });
  }
  return accounts;
}

interface OrgSpec {
  key: string;
  name: string;
  code: string;
  patients: number;
}

export function demoOrganizations(options: DemoOptions): OrgSpec[] {
  const specs: OrgSpec[] = [];
  const base = Math.floor(options.patients / options.orgs);
  for (let i = 1; i <= options.orgs; i++) {
    const patients = base + (i <= options.patients % options.orgs ? 1 : 0);
    specs.push({ key: String(i), name: `Clinique Démo ${i}`, code: `ORG-DEMO${String(i).padStart(6, '0')}`, patients });
  }
  if (options.largeOrgPatients > 0) {
    specs.push({
      key: 'export',
      name: 'Clinique Démo Export',
      code: 'ORG-DEMOEXPORT',
      patients: options.largeOrgPatients,
    });
  }
  return specs;
}

/** mulberry32: small, fast, and the same sequence everywhere for the same seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID v7 whose time is `at` and whose other bits come from `next`. */
function uuidAt(at: Date, next: () => number): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(at.getTime(), 0, 6);
  for (let i = 6; i < 16; i++) bytes[i] = Math.floor(next() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const FIRST = [
  'Awa',
  'Jean',
  'Fatou',
  'Marie',
  'Moussa',
  'Claire',
  'Ibrahima',
  'Sophie',
  'Amadou',
  'Léa',
  'Youssef',
  'Chloé',
  'Koffi',
  'Inès',
  'Paul',
  'Aminata',
];
const LAST = [
  'Ndiaye',
  'Dupont',
  'Diallo',
  'Martin',
  'Traoré',
  'Bernard',
  'Kouassi',
  'Petit',
  'Mbaye',
  'Durand',
  'Camara',
  'Leroy',
  'Sow',
  'Moreau',
  'Diop',
  'Fournier',
];
const BLOOD = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'];
const GENDERS = ['male', 'female', 'other'] as const;
// Rows are dated before this instant, whatever the day the generator runs.
const ANCHOR = Date.parse('2026-11-01T00:00:00Z');
const BATCH = 1_000;

export interface SeedSummary {
  organizations: number;
  users: number;
  patients: number;
  /** Patients this run inserted (0 on a rerun). */
  insertedPatients: number;
}

export async function seedDemo(
  db: Kysely<Database>,
  options: DemoOptions,
  passwordHash: string,
  progress: (done: number, total: number) => void = () => {},
): Promise<SeedSummary> {
  const orgs = demoOrganizations(options);
  const total = orgs.reduce((n, o) => n + o.patients + options.usersPerOrg, 0);
  let done = 0;
  let insertedPatients = 0;

  const adminUuid = uuidAt(new Date(ANCHOR - 900 * 86_400_000), random(options.seed * 1_000_003 - 1));
  await db
    .insertInto('medreport.users')
    .values({
      uuid: adminUuid,
      name: 'Admin Démo',
      email: DEMO_ADMIN_EMAIL,
      password_hash: passwordHash,
      platform_role: 'admin',
    })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .execute();

  for (const [position, org] of orgs.entries()) {
    const next = random(options.seed * 1_000_003 + position);
    const users = Array.from({ length: options.usersPerOrg }, (_, index) => ({
      uuid: uuidAt(new Date(ANCHOR - 800 * 86_400_000), next),
      name:
        index === 0
          ? `Dr ${LAST[position % LAST.length]} (propriétaire)`
          : `Dr ${FIRST[index % FIRST.length]} ${LAST[(position + index) % LAST.length]}`,
      email: demoEmail(org.key, index),
      password_hash: passwordHash,
      role: index === 0 ? ('owner' as const) : ('doctor' as const),
      speciality: index === 0 ? 'Médecine générale' : 'Pédiatrie',
    }));

    const organizationId = await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('medreport.users')
        .values(users)
        .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
        .execute();
      const ids = await trx
        .selectFrom('medreport.users')
        .select(['id', 'email'])
        .where(
          'email',
          'in',
          users.map((u) => u.email),
        )
        .execute();
      const ownerId = ids.find((u) => u.email === users[0]!.email)!.id;
      await trx
        .insertInto('medreport.organizations')
        .values({
          uuid: uuidAt(new Date(ANCHOR - 800 * 86_400_000), next),
          name: org.name,
          code: org.code,
          owner_user_id: ownerId,
        })
        .onConflict((oc) => oc.column('code').doNothing())
        .execute();
      const { id } = await trx
        .selectFrom('medreport.organizations')
        .select('id')
        .where('code', '=', org.code)
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('medreport.users')
        .set({ organization_id: id })
        .where(
          'email',
          'in',
          users.map((u) => u.email),
        )
        .where('organization_id', 'is', null)
        .execute();
      return id;
    });
    const creators = (
      await db.selectFrom('medreport.users').select('id').where('organization_id', '=', organizationId).execute()
    ).map((u) => u.id);
    done += users.length;
    progress(done, total);

    for (let start = 0; start < org.patients; start += BATCH) {
      const rows: Insertable<PatientsTable>[] = [];
      for (let i = start; i < Math.min(org.patients, start + BATCH); i++) {
        const createdAt = new Date(ANCHOR - Math.floor(next() * 730 * 86_400_000));
        const first = FIRST[Math.floor(next() * FIRST.length)]!;
        const last = LAST[Math.floor(next() * LAST.length)]!;
        rows.push({
          organization_id: organizationId,
          uuid: uuidAt(createdAt, next),
          name: `${first} ${last}`,
          birth_date: new Date(ANCHOR - Math.floor((1 + next() * 90) * 365.25 * 86_400_000)).toISOString().slice(0, 10),
          gender: GENDERS[Math.floor(next() * GENDERS.length)]!,
          phone: `+2217${String(Math.floor(next() * 1e8)).padStart(8, '0')}`,
          blood_group: BLOOD[Math.floor(next() * BLOOD.length)],
          notes: next() < 0.3 ? 'Suivi régulier' : null,
          created_by: creators[Math.floor(next() * creators.length)]!,
          created_at: createdAt,
          updated_at: createdAt,
        });
      }
      const result = await db
        .insertInto('medreport.patients')
        .values(rows)
        .onConflict((oc) => oc.columns(['organization_id', 'uuid']).doNothing())
        .executeTakeFirst();
      insertedPatients += Number(result.numInsertedOrUpdatedRows ?? 0);
      done += rows.length;
      progress(done, total);
    }
  }

  return {
    organizations: orgs.length,
    users: orgs.length * options.usersPerOrg,
    patients: orgs.reduce((n, o) => n + o.patients, 0),
    insertedPatients,
  };
}
