import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { testDb } from './helpers/database.js';
import { type FilePart, multipart, PNG } from './helpers/multipart.js';
import {
  type ApiRoute,
  RECIPES,
  type Recipe,
  type RecipeFixture,
  recipeFixture,
  apiRoutes as routesOf,
} from './helpers/route-recipes.js';

// Every route of both APIs, as an authorized caller would send it, then as a hostile one would:
// server-owned fields and unknown keys riding along a valid request, NUL bytes, lone surrogates,
// 1e309, 2^63, arrays where scalars belong, names and keys of Object.prototype, values nested
// 10,000 deep, file parts without a name, a text/plain body. Nothing may answer 5xx, nothing
// server-owned may change, and the routes come from the route table: a new route joins by itself
// (and fails here until it has a recipe in tests/helpers/route-recipes.ts).

const SENTINEL = '2001-02-03T04:05:06.000Z';
/** A verification code in the right format: a prescription or invoice must never take it from a client. */
const HOSTILE_CODE = 'ZZZZZZZZZZZZZZZZZZZZ';
const HOSTILE_UUID = '01890000-dead-7000-8000-00000000beef';

let app: App;
let fx: RecipeFixture;
const owner = await testDb();

beforeAll(async () => {
  const provider = {
    clientId: 'id',
    clientSecret: 'secret',
    authorizeUrl: 'http://127.0.0.1:9/authorize',
    tokenUrl: 'http://127.0.0.1:9/token',
    userinfoUrl: 'http://127.0.0.1:9/userinfo',
  };
  app = await buildTestApp({ config: { oauth: { google: provider } } });
  fx = await recipeFixture(app);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const apiRoutes = () => routesOf(app);

/** Keys a client must never set, each with a value that would be visible if it stuck. */
function hostileOwned(): Record<string, unknown> {
  const victimUser = fx.victim.doctor.user.id;
  return {
    id: 987654321,
    organization_id: fx.victim.organization.id,
    role: 'admin',
    platform_role: 'admin',
    roles: ['owner', 'admin'],
    status: 'suspended',
    created_by: victimUser,
    user_id: victimUser,
    owner_user_id: victimUser,
    deleted_at: SENTINEL,
    email_verified_at: SENTINEL,
    created_at: SENTINEL,
    updated_at: SENTINEL,
    password_hash: 'hostile-hash',
    has_used_trial: true,
    code: 'ORG-HOSTILE',
    avatar: 'hostile.png',
    path: '../../../etc/passwd',
    checksum: 'hostile',
    file_version: 99,
    total_amount: 1,
    verification_code: HOSTILE_CODE,
    statut: 'suspendu',
    cree_le: SENTINEL,
    modifie_le: SENTINEL,
    id_utilisateur: HOSTILE_UUID,
    fuzz_extra: 'x',
  };
}

/** Server-owned columns of every table, by row key: what a request must leave as it was. */
const OWNED: Record<string, { schema?: 'ptitspas'; key: string; columns: string[] }> = {
  users: {
    key: 'id',
    columns: [
      'uuid',
      'email',
      'role',
      'platform_role',
      'deleted_at',
      'organization_id',
      'status',
      'email_verified_at',
      'password_hash',
      'has_used_trial',
      'avatar',
      'created_at',
    ],
  },
  organizations: { key: 'id', columns: ['uuid', 'owner_user_id', 'code', 'created_at'] },
  sessions: { key: 'id', columns: ['user_id', 'expires_at', 'created_at'] },
  patients: { key: 'uuid', columns: ['organization_id', 'created_by', 'created_at', 'deleted_at'] },
  prescriptions: {
    key: 'uuid',
    columns: ['organization_id', 'created_by', 'created_at', 'deleted_at', 'verification_code'],
  },
  invoices: {
    key: 'uuid',
    columns: ['organization_id', 'created_by', 'created_at', 'deleted_at', 'verification_code'],
  },
  files: {
    key: 'uuid',
    columns: ['organization_id', 'created_by', 'created_at', 'deleted_at', 'path', 'checksum', 'size', 'file_version'],
  },
  activity_log: { key: 'id', columns: ['organization_id', 'user_id', 'action', 'entity_uuid', 'created_at'] },
  utilisateurs: {
    schema: 'ptitspas',
    key: 'id',
    columns: ['email', 'role', 'statut', 'password_hash', 'cree_le'],
  },
  parents: { schema: 'ptitspas', key: 'id_utilisateur', columns: [] },
  assistantes_maternelles: { schema: 'ptitspas', key: 'id_utilisateur', columns: ['numero_agrement'] },
  historique_statuts: {
    schema: 'ptitspas',
    key: 'id',
    columns: ['id_utilisateur', 'nouveau_statut', 'par', 'cree_le'],
  },
  refresh_families: { schema: 'ptitspas', key: 'id', columns: ['id_utilisateur', 'revoque_le', 'cree_le'] },
  enfants: { schema: 'ptitspas', key: 'id', columns: ['cree_le'] },
  uploads: {
    schema: 'ptitspas',
    key: 'id',
    columns: ['id_auteur', 'id_enfant', 'type_mime', 'taille', 'sha256', 'cle', 'cree_le'],
  },
  dossiers: { schema: 'ptitspas', key: 'id_enfant', columns: ['statut', 'historique', 'cree_le'] },
  notifications: { schema: 'ptitspas', key: 'id', columns: ['id_destinataire', 'type', 'lien_id', 'cree_le'] },
};

type Snapshot = Record<string, Map<string, Record<string, unknown>>>;

async function snapshot(): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [table, { schema = 'medreport', key, columns }] of Object.entries(OWNED)) {
    // As text: equal text is an equal value, and nothing is parsed into dates or objects.
    const text = [key, ...columns].map((c) => `${c}::text as ${c}`).join(', ');
    const { rows } = await owner.pool.query(`select ${text} from ${schema}.${table}`);
    out[table] = new Map(rows.map((r: Record<string, unknown>) => [String(r[key]), r]));
  }
  return out;
}

/** Every server-owned column of every row that existed before is as it was, but for `allowed`. */
function expectUnchanged(before: Snapshot, after: Snapshot, allowed: string[], label: string) {
  for (const [table, rows] of Object.entries(before)) {
    const skip = new Set(allowed.filter((c) => c.startsWith(`${table}.`)).map((c) => c.slice(table.length + 1)));
    for (const [key, row] of rows) {
      const now = after[table]!.get(key);
      // expect() only on a difference: there are hundreds of thousands of comparisons, and
      // expect's own bookkeeping cost ~3.5 s of CPU (21.4 → 18.0 s for this file), the check of
      // each row another 0.5 s.
      if (!now) {
        if (skip.has('*')) continue;
        expect.fail(`${label}: ${table} ${key} disappeared`);
      }
      for (const column of OWNED[table]!.columns) {
        if (skip.has(column) || now[column] === row[column]) continue;
        expect(now[column], `${label}: ${table}.${column} of ${key}`).toEqual(row[column]);
      }
    }
  }
}

/** No row anywhere, old or new, took a hostile value. */
async function expectNoSentinel(label: string) {
  const victimOrg = fx.victim.organization.id;
  const victimUser = fx.victim.doctor.user.id;
  const checks: Array<[string, string, unknown[]]> = [
    [
      'users',
      `select id from medreport.users where (platform_role = 'admin' and id <> $5) or status = 'suspended'
         or has_used_trial or password_hash = 'hostile-hash' or email_verified_at = $1 or created_at = $1
         or updated_at = $1 or deleted_at = $1 or id = 987654321 or avatar = 'hostile.png'
         or (organization_id = $2 and id not in ($3, $4))`,
      [SENTINEL, victimOrg, fx.victim.owner.user.id, victimUser, fx.admin.id],
    ],
    [
      'organizations',
      `select id from medreport.organizations where code = 'ORG-HOSTILE' or created_at = $1 or updated_at = $1
         or (owner_user_id = $2)`,
      [SENTINEL, victimUser],
    ],
    ...['patients', 'prescriptions', 'invoices', 'files'].map((t): [string, string, unknown[]] => [
      t,
      `select uuid from medreport.${t} where deleted_at = $1 or created_at = $1 or updated_at = $1
           or organization_id = $2 or created_by = $3`,
      [SENTINEL, victimOrg, victimUser],
    ]),
    [
      'files',
      `select uuid from medreport.files where path like '%passwd%' or checksum = 'hostile' or file_version = 99`,
      [],
    ],
    ...['prescriptions', 'invoices'].map((t): [string, string, unknown[]] => [
      t,
      `select uuid from medreport.${t} where verification_code = $1`,
      [HOSTILE_CODE],
    ]),
    [
      'activity_log',
      'select id from medreport.activity_log where created_at = $1 or organization_id = $2 or user_id = $3',
      [SENTINEL, victimOrg, victimUser],
    ],
    [
      'utilisateurs',
      `select id from ptitspas.utilisateurs u
        where cree_le = $1 or modifie_le = $1 or password_hash = 'hostile-hash' or id = $2
           -- suspended without a suspension on record: the client's statut stuck
           or (statut = 'suspendu' and not exists (
                 select 1 from ptitspas.historique_statuts h where h.id_utilisateur = u.id and h.nouveau_statut = 'suspendu'))`,
      [SENTINEL, HOSTILE_UUID],
    ],
    [
      'enfants',
      'select id from ptitspas.enfants where cree_le = $1 or modifie_le = $1 or id = $2',
      [SENTINEL, HOSTILE_UUID],
    ],
    [
      'historique_statuts',
      'select id from ptitspas.historique_statuts where cree_le = $1 or id_utilisateur = $2 or par = $2',
      [SENTINEL, HOSTILE_UUID],
    ],
  ];
  for (const [table, text, values] of checks) {
    const { rows } = await owner.pool.query(text, values);
    expect(rows, `${label}: hostile values found in ${table}`).toEqual([]);
  }
}

async function prepared(route: ApiRoute, recipe: Recipe) {
  const headers = (await recipe.as?.(fx)) ?? {};
  const url = (await recipe.url?.(fx)) ?? route.url;
  return { headers, url };
}

function withQuery(url: string, query: Record<string, string>, extra = ''): string {
  const qs = new URLSearchParams(query).toString();
  const all = [qs, extra].filter(Boolean).join('&');
  return all ? `${url}${url.includes('?') ? '&' : '?'}${all}` : url;
}

/** A route's body schema: its properties, or one schema per media type. */
type BodySchema = {
  properties?: Record<string, { format?: string }>;
  content?: Record<string, { schema?: BodySchema }>;
};

/** The body schema's top-level properties (JSON variant when a route reads several types). */
function bodyFields(route: ApiRoute): string[] {
  const body = route.schema?.body as BodySchema | undefined;
  const schema = body?.content ? body.content['application/json']?.schema : body;
  return Object.keys(schema?.properties ?? {});
}

function queryFields(route: ApiRoute): string[] {
  return Object.keys((route.schema?.querystring as { properties?: object } | undefined)?.properties ?? {});
}

/** The multipart body schema's fields that carry a file. */
function multipartFileFields(route: ApiRoute): string[] {
  const body = route.schema?.body as BodySchema | undefined;
  const schema = body?.content ? body.content['multipart/form-data']?.schema : body;
  return Object.entries(schema?.properties ?? {})
    .filter(([, property]) => property.format === 'binary')
    .map(([name]) => name);
}

const RAW = '"__raw__"';
/** Keys that would reach Object.prototype if a parser or a handler assigned them: sent as real own keys. */
const PROTOTYPE_KEYS =
  '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}},"prototype":{"role":"admin"}}';
const BODY_VARIANTS: Array<[string, (valid: unknown) => unknown, string?]> = [
  ['a NUL byte', () => 'a\u0000b'],
  ['a lone surrogate', () => 'x\ud800y'],
  ['1e309', () => '__raw__', '1e309'],
  ['2^63', () => '__raw__', '9223372036854775808'],
  ['an array for a scalar', (valid) => [valid ?? 'x']],
  ['an object', () => ({ nested: 1 })],
  ['an object with prototype keys', () => '__raw__', PROTOTYPE_KEYS],
];
/** Names of Object.prototype's members, as ordinary strings: valid or refused, never a 5xx. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString'];
const DEEP_VALUES: Array<[string, string]> = [
  ['10,000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
  ['10,000 nested objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
];

/** `body` as JSON text with the raw JSON `raw` at `position` (a path of keys and indexes). */
function rawAt(body: Record<string, unknown>, position: string[], raw: string): string {
  const copy = structuredClone(body);
  let parent: Record<string, unknown> = copy;
  for (const key of position.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  parent[position.at(-1)!] = '__raw__';
  return JSON.stringify(copy).replace(RAW, raw);
}

/** Every place a value sits in a JSON body: each declared field, and each value inside the valid ones. */
function valuePositions(fields: string[], valid: Record<string, unknown>): string[][] {
  const inside = (value: unknown, at: string[]): string[][] =>
    value && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, child]) => [[...at, key], ...inside(child, [...at, key])])
      : [];
  return fields.map((field) => [field]).concat(fields.flatMap((field) => inside(valid[field], [field])));
}

/** A 4xx in the API's own error shape, or whatever the valid request answers: never a 5xx. */
function answeredSafely(route: ApiRoute, res: LightMyRequestResponse): boolean {
  if (res.statusCode >= 500) return false;
  if (res.statusCode < 400) return true;
  const body = res.json();
  return route.api === 'ptitspas' ? body.statusCode === res.statusCode : body.success === false;
}

describe('the recipe table covers the route table', () => {
  it('has a recipe for every route of both APIs, and none for a route that does not exist', () => {
    const keys = apiRoutes().map((r) => r.key);
    expect(keys.length).toBeGreaterThan(40);
    expect(
      keys.filter((k) => !(k in RECIPES)),
      'routes without a recipe',
    ).toEqual([]);
    expect(
      Object.keys(RECIPES).filter((k) => !keys.includes(k)),
      'recipes without a route',
    ).toEqual([]);
  });
});

describe('hostile input over the whole route table', () => {
  it('refuses every hostile body field and query value with 4xx, never 5xx', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      const recipe = RECIPES[route.key];
      if (!recipe) continue;
      const { headers, url } = await prepared(route, recipe);
      const validation = route.api === 'ptitspas' ? 400 : 422;

      if (recipe.body) {
        const valid = await recipe.body(fx);
        for (const field of bodyFields(route)) {
          for (const [label, make, raw] of BODY_VARIANTS) {
            let payload = JSON.stringify({ ...valid, [field]: make(valid[field]) });
            if (raw) payload = payload.replace(RAW, raw);
            const res = await app.inject({
              method: route.method as 'POST',
              url: withQuery(url, recipe.query ?? {}),
              headers: { ...headers, 'content-type': 'application/json' },
              payload,
            });
            if (res.statusCode !== validation)
              failures.push(`${route.key} body.${field} = ${label} -> ${res.statusCode}`);
          }
        }
      }

      for (const field of queryFields(route)) {
        const query = { ...recipe.query };
        const base = withQuery(url, Object.fromEntries(Object.entries(query).filter(([k]) => k !== field)));
        const sep = base.includes('?') ? '&' : '?';
        for (const [label, suffix, mustRefuse] of [
          ['a NUL byte', `${field}=a%00b`, true],
          ['a lone surrogate', `${field}=%ED%A0%80`, false],
          ['1e309', `${field}=1e309`, false],
          ['2^63', `${field}=9223372036854775808`, false],
          ['a repeated key', `${field}=1&${field}=2`, false],
          ['a bracketed key', `${field}[]=1`, false],
          ['an indexed key', `${field}[0]=1`, false],
        ] as const) {
          const res = await app.inject({ method: route.method as 'GET', url: `${base}${sep}${suffix}`, headers });
          if (res.statusCode >= 500 || (mustRefuse && res.statusCode < 400)) {
            failures.push(`${route.key} query ${field} = ${label} -> ${res.statusCode}`);
          }
        }
      }

      if (route.schema?.params) {
        for (const [label, value] of [
          ['a NUL byte', 'a%00b'],
          ['1e309', '1e309'],
          ['a 300-character value', 'x'.repeat(300)],
          ['a malformed escape', '%zz'],
        ] as const) {
          const target = route.url.replace(/:\w+/g, value);
          const res = await app.inject({ method: route.method as 'GET', url: target, headers });
          if (res.statusCode < 400 || res.statusCode >= 500)
            failures.push(`${route.key} params = ${label} -> ${res.statusCode}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses a NUL byte in the query string of a route that reads none, with the validation status', async () => {
    // Such a query string is inspected whole, so even a route without parameters answers this
    // (documented in openapi.json, which the response check of every test holds it to). Where a
    // route reads a query, unknown keys are dropped unread and its own fields are tested above.
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      if (route.schema?.querystring) continue;
      const recipe = RECIPES[route.key]!;
      const { headers, url } = await prepared(route, recipe);
      const target = withQuery(url, { ...recipe.query, zz: 'a\u0000b' });
      const res = await app.inject({ method: route.method as 'GET', url: target, headers });
      // By the tree the route lives in: a page outside /api/v1 answers in the default (MedReport) shape.
      const validation = route.url.startsWith('/api/v1') ? 400 : 422;
      if (res.statusCode !== validation) failures.push(`${route.key} -> ${res.statusCode}`);
    }
    expect(failures).toEqual([]);
  });

  it('takes the names of Object.prototype’s members as ordinary values in every body field: never 5xx', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      const recipe = RECIPES[route.key]!;
      if (!recipe.body) continue;
      const { headers, url } = await prepared(route, recipe);
      const valid = await recipe.body(fx);
      for (const field of bodyFields(route)) {
        for (const name of PROTOTYPE_NAMES) {
          const res = await app.inject({
            method: route.method as 'POST',
            url: withQuery(url, recipe.query ?? {}),
            headers: { ...headers, 'content-type': 'application/json' },
            payload: JSON.stringify({ ...valid, [field]: name }),
          });
          if (!answeredSafely(route, res)) failures.push(`${route.key} body.${field} = "${name}" -> ${res.statusCode}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses a value nested 10,000 deep anywhere in a JSON body with the validation status', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      const recipe = RECIPES[route.key]!;
      if (!recipe.body) continue;
      const { headers, url } = await prepared(route, recipe);
      const validation = route.api === 'ptitspas' ? 400 : 422;
      const valid = await recipe.body(fx);
      for (const position of valuePositions(bodyFields(route), valid)) {
        for (const [label, raw] of DEEP_VALUES) {
          const res = await app.inject({
            method: route.method as 'POST',
            url: withQuery(url, recipe.query ?? {}),
            headers: { ...headers, 'content-type': 'application/json' },
            payload: rawAt(valid, position, raw),
          });
          if (res.statusCode !== validation) {
            failures.push(`${route.key} body.${position.join('.')} = ${label} -> ${res.statusCode}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('never answers 5xx to multipart fields named or valued after Object.prototype, or files without a name', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      const recipe = RECIPES[route.key]!;
      if (!recipe.multipart) continue;
      const { headers, url } = await prepared(route, recipe);
      const valid = await recipe.multipart(fx);
      const variants: Array<[string, Record<string, string | FilePart>]> = [];
      for (const [field, value] of Object.entries(valid)) {
        if (typeof value !== 'string') continue;
        for (const name of PROTOTYPE_NAMES) variants.push([`${field} = "${name}"`, { ...valid, [field]: name }]);
      }
      for (const name of PROTOTYPE_NAMES) variants.push([`a field named ${name}`, { [name]: 'x', ...valid }]);
      for (const field of multipartFileFields(route)) {
        const file = valid[field];
        const { contentType, data } = typeof file === 'object' ? file : { contentType: 'image/png', data: PNG };
        variants.push([`${field} with filename=""`, { ...valid, [field]: { filename: '', contentType, data } }]);
        variants.push([
          `${field} without a filename`,
          { ...valid, [field]: { contentType: 'application/octet-stream', data } },
        ]);
      }
      for (const [label, fields] of variants) {
        const form = multipart(fields);
        const res = await app.inject({
          method: route.method as 'POST',
          url: withQuery(url, recipe.query ?? {}),
          headers: { ...headers, ...form.headers },
          payload: form.payload,
        });
        if (!answeredSafely(route, res)) failures.push(`${route.key} multipart ${label} -> ${res.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers 415 to a text/plain body on every route that takes one', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method)) continue;
      const recipe = RECIPES[route.key]!;
      const { headers, url } = await prepared(route, recipe);
      const res = await app.inject({
        method: route.method as 'POST',
        url,
        headers: { ...headers, 'content-type': 'text/plain' },
        payload: JSON.stringify(recipe.body ? await recipe.body(fx) : { name: 'x' }),
      });
      const shapeOk = route.api === 'ptitspas' ? res.json().statusCode === 415 : res.json().success === false;
      if (res.statusCode !== 415 || !shapeOk) failures.push(`${route.key} -> ${res.statusCode} ${res.body}`);
    }
    expect(failures).toEqual([]);
  });

  it('ignores server-owned fields and unknown keys riding along a valid request, on every route', async () => {
    const failures: string[] = [];
    for (const route of apiRoutes()) {
      const recipe = RECIPES[route.key]!;
      const { headers, url } = await prepared(route, recipe);
      const owned = hostileOwned();
      // Keys the route does not declare (a declared one, like /users' role filter, is the client's to send).
      const extra = ['fuzz=a', 'page[0]=1', 'organization_id=1', 'role=admin']
        .filter((pair) => !queryFields(route).includes(pair.split('=')[0]!))
        .join('&');
      const query = withQuery(url, recipe.query ?? {}, extra);
      const requests: Array<{ headers: Record<string, string>; payload?: string | Buffer }> = [];
      if (recipe.multipart) {
        const fields = Object.fromEntries(Object.entries(owned).map(([k, v]) => [k, String(v)]));
        const form = multipart({ ...fields, ...(await recipe.multipart(fx)) });
        requests.push({ headers: { ...headers, ...form.headers }, payload: form.payload });
      }
      if (recipe.body || !recipe.multipart) {
        const body = recipe.body ? await recipe.body(fx) : {};
        requests.push(
          ['GET', 'HEAD'].includes(route.method)
            ? { headers }
            : {
                headers: { ...headers, 'content-type': 'application/json' },
                // Prototype keys at the top level too, as real own keys: unknown keys like any other.
                payload: JSON.stringify({ ...owned, ...body }).replace(/^\{/, `${PROTOTYPE_KEYS.slice(0, -1)},`),
              },
        );
      }
      for (const request of requests) {
        const before = await snapshot();
        const res = await app.inject({ method: route.method as 'POST', url: query, ...request });
        const label = `${route.key} (${res.statusCode})`;
        // Extra keys are dropped, not refused: the request succeeds as if they were not there.
        const ok = recipe.status ? res.statusCode === recipe.status : res.statusCode < 400;
        if (!ok) failures.push(`${label}: ${res.body}`);
        expectUnchanged(before, await snapshot(), recipe.changes ?? [], label);
        await expectNoSentinel(label);
      }
    }
    expect(failures).toEqual([]);
  });
});
