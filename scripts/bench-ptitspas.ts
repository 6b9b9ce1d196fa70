/**
 * The PtitsPas parts of `npm run bench` (scripts/bench.ts): 10,000 children with their dossiers,
 * gestionnaire logins, and the upload/download throughput of the storage, local and S3, each
 * against a bare pipeline doing the same copy in the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import argon2 from 'argon2';
import type pg from 'pg';
import { rssMb } from './process-stats.js';

export const DOSSIER_CHILDREN = 10_000;
const PASSWORD = 'bench ptitspas password';
const MB = 1024 * 1024;

/**
 * 10,000 children, each with a dossier (states spread, one piece each), and `count` gestionnaires:
 * written in SQL once (a later run finds them and only checks).
 */
export async function seedPtitsPas(owner: pg.Client, count: number): Promise<string[]> {
  const { rows } = await owner.query(`select count(*)::int as n from ptitspas.dossiers`);
  if (rows[0].n < DOSSIER_CHILDREN) {
    await owner.query('begin');
    await owner.query(
      `insert into ptitspas.enfants (id, prenom, nom, genre, date_naissance)
       select gen_random_uuid(), 'Enfant' || i, 'Famille' || (i % 2000), case when i % 2 = 0 then 'F' else 'H' end,
              date '2021-01-01' + (i % 1000)
         from generate_series(1, $1) i`,
      [DOSSIER_CHILDREN],
    );
    const dossier = JSON.stringify({
      responsables: [
        { prenom: 'Léa', nom: 'Dupont', lien: 'mere', telephone: '0601020304', email: null, autorite_parentale: true },
      ],
      contacts_urgence: [{ prenom: 'Jean', nom: 'Dupont', lien: 'grand-père', telephone: '0605060708' }],
      personnes_autorisees: [{ prenom: 'Marc', nom: 'Durand', lien: 'voisin', telephone: '0611223344' }],
      sante: {
        medecin_traitant: { nom: 'Dr Martin', telephone: '0140506070' },
        allergies: ['arachide'],
        regime_alimentaire: null,
        pai: false,
        vaccinations: [{ vaccin: 'DTP', date: '2021-02-01' }],
        traitement_en_cours: null,
      },
      autorisations: { soins_urgence: true, administration_medicaments: true, droit_image: false, sorties: true },
    });
    await owner.query(
      `insert into ptitspas.dossiers (id_enfant, statut, responsables, contacts_urgence, personnes_autorisees, sante,
                                      autorisations, historique, cree_le, modifie_le)
       select e.id, (array['brouillon', 'soumis', 'valide', 'a_completer'])[1 + n % 4],
              d -> 'responsables', d -> 'contacts_urgence', d -> 'personnes_autorisees', d -> 'sante', d -> 'autorisations',
              '[]'::jsonb, now() - n * interval '1 minute', now() - n * interval '1 minute'
         from (select id, row_number() over (order by id) as n from ptitspas.enfants
                where id not in (select id_enfant from ptitspas.dossiers)) e, (select $1::jsonb as d) j`,
      [dossier],
    );
    await owner.query(
      `with pieces as (
         insert into ptitspas.uploads (id, nom, type_mime, taille, sha256, categorie, id_enfant, cle)
         select gen_random_uuid(), 'carnet.pdf', 'application/pdf', 1000, repeat('0', 64), 'carnet_vaccination', d.id_enfant,
                'bench/' || d.id_enfant
           from ptitspas.dossiers d
          where not exists (select 1 from ptitspas.dossiers_pieces p where p.id_enfant = d.id_enfant)
         returning id, id_enfant)
       insert into ptitspas.dossiers_pieces (id_enfant, id_upload, position) select id_enfant, id, 0 from pieces`,
    );
    await owner.query('commit');
  }
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  const emails = Array.from({ length: count }, (_, i) => `gestionnaire.bench${i}@ptitspas.test`);
  await owner.query(
    `insert into ptitspas.utilisateurs (id, email, password_hash, prenom, nom, role, statut)
     select gen_random_uuid(), e, $2, 'Gestion', 'Bench', 'gestionnaire', 'actif' from unnest($1::text[]) e
     on conflict do nothing`,
    [emails, hash],
  );
  return emails;
}

const JOURNAL_PARENT = 'parent.journal@ptitspas.test';

/**
 * One child's journal over the year before today, 20 events a day (7,300), and its parent (who
 * logs in with the bench password): written in SQL once. The parent's e-mail and the child's id.
 */
export async function seedJournal(owner: pg.Client): Promise<{ parent: string; enfant: string }> {
  const found = await owner.query(
    `select ep.id_enfant from ptitspas.enfants_parents ep join ptitspas.utilisateurs u on u.id = ep.id_parent
      where u.email = $1`,
    [JOURNAL_PARENT],
  );
  if (found.rows[0]) return { parent: JOURNAL_PARENT, enfant: found.rows[0].id_enfant as string };
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  await owner.query('begin');
  const { rows } = await owner.query(
    `with parent as (
       insert into ptitspas.utilisateurs (id, email, password_hash, prenom, nom, role, statut)
       values (gen_random_uuid(), $1, $2, 'Journal', 'Bench', 'parent', 'actif') returning id),
     profile as (insert into ptitspas.parents (id_utilisateur) select id from parent),
     enfant as (
       insert into ptitspas.enfants (id, prenom, nom, genre, date_naissance)
       values (gen_random_uuid(), 'Journal', 'Bench', 'F', date '2024-03-01') returning id),
     link as (insert into ptitspas.enfants_parents (id_enfant, id_parent) select enfant.id, parent.id from enfant, parent)
     select enfant.id as enfant from enfant`,
    [JOURNAL_PARENT, hash],
  );
  const enfant = rows[0].enfant as string;
  await owner.query(
    `insert into ptitspas.evenements (id, id_enfant, type, survenu_le, details)
     select gen_random_uuid(), $1, (array['repas', 'change', 'activite', 'humeur'])[1 + k % 4],
            date_trunc('day', now()) - d * interval '1 day' + interval '7 hours' + k * interval '30 minutes',
            (array['{"quantite": "tout"}', '{"selle": false}', '{"libelle": "Jeux"}', '{"humeur": "joyeux"}'])[1 + k % 4]::jsonb
       from generate_series(1, 365) d, generate_series(0, 19) k`,
    [enfant],
  );
  await owner.query('commit');
  await owner.query('analyze ptitspas.evenements');
  return { parent: JOURNAL_PARENT, enfant };
}

/**
 * An access token of each account (they last 15 minutes: log in right before use), ten logins at
 * a time: one address may have 16 password hashes queued (plugins/passwords.ts).
 */
export async function ptitspasTokens(api: string, emails: string[]): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < emails.length; i += 10) tokens.push(...(await loginBatch(api, emails.slice(i, i + 10))));
  return tokens;
}

function loginBatch(api: string, emails: string[]): Promise<string[]> {
  return Promise.all(
    emails.map(async (email) => {
      const res = await fetch(`${api}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      if (!res.ok) throw new Error(`PtitsPas login ${email}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    }),
  );
}

/** A PDF-headed file of `size` random bytes, as one multipart/form-data body. */
function uploadBody(size: number) {
  const boundary = `----bench${randomUUID()}`;
  const file = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size - 9)]);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="categorie"\r\n\r\nautre\r\n`),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="bench.pdf"\r\n` +
        'Content-Type: application/pdf\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { file, body, type: `multipart/form-data; boundary=${boundary}` };
}

const drain = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

export interface Throughput {
  mbPerSecond: number;
  files: number;
}

/**
 * One HTTP exchange with node:http (not fetch, whose web streams would cost the client more than
 * the server): the status and, unless `discard`, the body.
 */
function exchange(url: string, options: http.RequestOptions, body?: Buffer, discard = false) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(url, options, (response) => {
      if (discard) {
        pipeline(response, drain()).then(() => resolve({ status: response.statusCode!, body: '' }), reject);
        return;
      }
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Uploads then downloads a 5 MB file through the API, `files` times, 4 at once; MB/s of bytes moved both ways. */
async function apiRoundTrips(api: string, token: string, files: number): Promise<Throughput> {
  const { body, type, file } = uploadBody(5 * MB);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const authorization = `Bearer ${token}`;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next++ < files) {
        const headers = { authorization, 'content-type': type, 'content-length': body.length };
        const res = await exchange(`${api}/api/v1/uploads`, { method: 'POST', agent, headers }, body);
        if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.body}`);
        const { id } = JSON.parse(res.body) as { id: string };
        const download = await exchange(
          `${api}/api/v1/uploads/${id}/contenu`,
          { agent, headers: { authorization } },
          undefined,
          true,
        );
        if (download.status !== 200) throw new Error(`download: ${download.status}`);
      }
    }),
  );
  agent.destroy();
  return { mbPerSecond: (2 * files * file.length) / MB / ((performance.now() - started) / 1000), files };
}

/**
 * The same copies through the bare server (scripts/bench-baseline.ts): the raw bytes PUT into the
 * same backend with a bare stream pipeline, then read back, by the same client.
 */
async function bareRoundTrips(base: string, store: 'local' | 's3', files: number): Promise<Throughput> {
  const { file } = uploadBody(5 * MB);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next++ < files) {
        const url = `${base}/bare/blobs/${store}/bare-${randomUUID()}`;
        const headers = { 'content-type': 'application/octet-stream', 'content-length': file.length };
        const put = await exchange(url, { method: 'PUT', agent, headers }, file);
        if (put.status !== 201) throw new Error(`bare upload: ${put.status} ${put.body}`);
        const get = await exchange(url, { agent }, undefined, true);
        if (get.status !== 200) throw new Error(`bare download: ${get.status}`);
      }
    }),
  );
  agent.destroy();
  return { mbPerSecond: (2 * files * file.length) / MB / ((performance.now() - started) / 1000), files };
}

/**
 * 20 uploads of 10 MB at once: how much the server's resident memory grows (an upper bound on
 * its heap's growth: the bytes are streamed to storage, never held).
 */
async function concurrentUploads(api: string, token: string, server: ChildProcess) {
  const { body, type } = uploadBody(10 * MB - 1024);
  const agent = new http.Agent({ keepAlive: false, maxSockets: 20 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': type, 'content-length': body.length };
  const before = rssMb(server.pid!);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(server.pid!));
  }, 20);
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => exchange(`${api}/api/v1/uploads`, { method: 'POST', agent, headers }, body)),
  );
  clearInterval(sampler);
  agent.destroy();
  return { beforeMb: before, growthMb: peak - before, created: answers.filter((a) => a.status === 201).length };
}

export interface UploadRun {
  local: { api: Throughput; bare: Throughput };
  s3: { api: Throughput; bare: Throughput };
  concurrent: { beforeMb: number; growthMb: number; created: number };
}

/** An S3-compatible server in this process (s3rver), for the bench's S3 runs. */
export async function startS3rver(dir: string) {
  const { default: S3rver } = await import('s3rver');
  const s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'bench' }],
  });
  const { port } = (await s3rver.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Upload + download throughput, local and S3 (a second server on the bench's s3rver), each
 * against the bare server's pipeline into the same backend, and the memory of 20 concurrent
 * 10 MB uploads.
 */
export async function measureUploads(options: {
  api: string;
  base: string;
  server: ChildProcess;
  s3Endpoint: string;
  startServer: (env: Record<string, string>) => Promise<{ url: string; process: ChildProcess }>;
  emails: string[];
}): Promise<UploadRun> {
  const [token] = await ptitspasTokens(options.api, options.emails.slice(0, 1));
  const files = 40;
  const local = {
    bare: await bareRoundTrips(options.base, 'local', files),
    api: await apiRoundTrips(options.api, token!, files),
  };
  const concurrent = await concurrentUploads(options.api, token!, options.server);
  const onS3 = await options.startServer({
    STORAGE: 's3',
    S3_ENDPOINT: options.s3Endpoint,
    S3_BUCKET: 'bench',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
  });
  try {
    const [s3Token] = await ptitspasTokens(onS3.url, options.emails.slice(0, 1));
    const s3 = {
      bare: await bareRoundTrips(options.base, 's3', files),
      api: await apiRoundTrips(onS3.url, s3Token!, files),
    };
    return { local, s3, concurrent };
  } finally {
    onS3.process.kill('SIGTERM');
  }
}
