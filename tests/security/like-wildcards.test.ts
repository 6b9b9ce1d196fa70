import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { PTITSPAS_PASSWORD, type PtitsPasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';
import { createPlatformAdmin, registerUser, uniqueEmail } from '../helpers/users.js';

// Searches fold the text (lower case, no accents: unaccent, which also maps the fullwidth forms
// ％ ＿ ＼ to % _ \). A search is a substring, never a pattern: whatever the client types, once
// folded, must be matched literally, including LIKE's wildcards and escape character.

let app: App;
let platformAdmin: Awaited<ReturnType<typeof createPlatformAdmin>>;
let superAdmin: PtitsPasAccount;
let clinic: TenantFixture;

/** Names holding each of LIKE's special characters once, and a control that holds none. */
const NAMES = {
  percent: 'Taux 50% Martin',
  underscore: 'Jean_Pierre Durand',
  backslash: 'Anne Back\\slash',
  plain: 'Amandine Bibi',
};
type Kind = keyof typeof NAMES;

/**
 * What each search may find: in folded text (the admin's and PtitsPas's searches, where ％ is %),
 * and in raw text (records and activity log: ILIKE, where ％ is just a character no name holds).
 */
const SEARCHES: Array<[search: string, folded: Kind[], raw: Kind[]]> = [
  ['％', ['percent'], []],
  ['50％', ['percent'], []],
  ['a％b', [], []],
  ['＿', ['underscore'], []],
  ['n＿p', ['underscore'], []],
  ['＼', ['backslash'], []],
  ['k＼s', ['backslash'], []],
  ['＼％', [], []],
  ['%', ['percent'], ['percent']],
  ['_', ['underscore'], ['underscore']],
  ['\\', ['backslash'], ['backslash']],
  ['a%b', [], []],
  ['\\%', [], []],
];

const RAW_SEARCHES = SEARCHES.map(([search, , raw]) => [search, raw] as const);

const medreportEmails = {} as Record<Kind, string>;
const ptitspasIds = {} as Record<Kind, string>;

beforeAll(async () => {
  app = await buildTestApp();
  platformAdmin = await createPlatformAdmin(app, 'Admin Plateforme');
  superAdmin = await ptitspasSuperAdmin(app);
  clinic = await createOrganization(app, 'Clinique Recherche');
  for (const [kind, name] of Object.entries(NAMES) as Array<[Kind, string]>) {
    medreportEmails[kind] = (await registerUser(app, { name, email: uniqueEmail('m') })).email;
    const [prenom, nom] = name.split(' ', 2);
    const staff = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: superAdmin.headers,
      payload: { email: uniqueEmail('p'), password: PTITSPAS_PASSWORD, role: 'gestionnaire', prenom, nom },
    });
    expect(staff.statusCode, staff.body).toBe(201);
    ptitspasIds[kind] = staff.json().id;
    const patient = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: clinic.doctor.headers,
      payload: { name },
    });
    expect(patient.statusCode, patient.body).toBe(201);
  }
});
afterAll(async () => {
  await app.close();
});

const q = (search: string) => encodeURIComponent(search);

describe('issue 21 item 7: fullwidth wildcards', () => {
  it.each(SEARCHES)('MedReport admin: a search for %j finds %j only', async (search, kinds) => {
    const res = await app.inject({
      url: `/api/admin/users?search=${q(search)}&limit=100`,
      headers: platformAdmin.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
    const emails = res.json().data.map((u: { email: string }) => u.email);
    expect(emails.sort()).toEqual(kinds.map((k) => medreportEmails[k]).sort());
    expect(res.json().total).toBe(kinds.length);
  });

  it.each(SEARCHES)('PtitsPas: a search for %j finds %j only', async (search, kinds) => {
    const res = await app.inject({ url: `/api/v1/users?search=${q(search)}&limit=100`, headers: superAdmin.headers });
    expect(res.statusCode, res.body).toBe(200);
    const ids = res.json().map((u: { id: string }) => u.id);
    expect(ids.sort()).toEqual(kinds.map((k) => ptitspasIds[k]).sort());
    expect(res.headers['x-total-count']).toBe(String(kinds.length));
  });

  it.each(RAW_SEARCHES)('MedReport records: a patient search for %j finds %j', async (search, kinds) => {
    const res = await app.inject({
      url: `/api/patients?search=${q(search)}&limit=100`,
      headers: clinic.doctor.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(
      res
        .json()
        .data.map((p: { name: string }) => p.name)
        .sort(),
    ).toEqual(kinds.map((k) => NAMES[k]).sort());
  });

  it.each(RAW_SEARCHES)('MedReport activity log: a search for %j finds %j', async (search, kinds) => {
    const res = await app.inject({
      url: `/api/activity-log?search=${q(search)}&entity_type=patient&limit=100`,
      headers: clinic.owner.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
    const names = res.json().data.map((e: { entity_name: string }) => e.entity_name);
    expect(names.sort()).toEqual(kinds.map((k) => NAMES[k]).sort());
  });

  it('an action_type filter is a literal suffix too', async () => {
    const find = async (actionType: string) =>
      (
        await app.inject({
          url: `/api/activity-log?action_type=${q(actionType)}&limit=100`,
          headers: clinic.owner.headers,
        })
      ).json().data.length;
    expect(await find('created')).toBe(Object.keys(NAMES).length);
    for (const wildcard of ['%', '_reated', '％', '＿reated']) expect(await find(wildcard), wildcard).toBe(0);
  });
});
