/**
 * The raw-driver baseline of `npm run bench` (not part of the product): bare Fastify and pg, each
 * route one prepared statement (or, for the write, the same statements as the API) that checks
 * the session itself, with the JWT verified by the same library @fastify/jwt uses. It connects as a
 * role that bypasses row-level security, as the bare minimum would.
 *
 *   BASELINE_DATABASE_URL=... BASELINE_JWT_SECRET=... BASELINE_PORT=... tsx scripts/bench-baseline.ts
 */
import { hkdfSync, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createVerifier } from 'fast-jwt';
import Fastify, { type FastifyRequest } from 'fastify';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const DATE_OID = 1082;
pg.types.setTypeParser(DATE_OID, (v: string) => v);
pg.types.setTypeParser(20, (v: string) => Number(v));

const pool = new pg.Pool({
  connectionString: process.env.BASELINE_DATABASE_URL,
  max: Number(process.env.BASELINE_POOL_MAX ?? 10),
});
const verify = createVerifier({ key: process.env.BASELINE_JWT_SECRET!, algorithms: ['HS256'] });
// PtitsPas signs its access tokens with a key derived from the same secret (plugins/ptitspas/auth.ts).
const verifyPtitsPas = createVerifier({
  key: Buffer.from(hkdfSync('sha256', process.env.BASELINE_JWT_SECRET!, '', 'ptitspas access token', 32)),
  algorithms: ['HS256'],
});
const app = Fastify({ logger: false });

const SESSION = `
  from medreport.sessions s
  join medreport.users u on u.id = s.user_id
 where s.id = $1 and s.revoked_at is null and s.expires_at > now()`;

const PATIENT = {
  name: 'base_patient',
  text: `select p.*
           from medreport.sessions s
           join medreport.users u on u.id = s.user_id
           join medreport.patients p on p.organization_id = u.organization_id
          where s.id = $1 and s.revoked_at is null and s.expires_at > now()
            and p.uuid = $2 and p.deleted_at is null`,
};
const PAGE = {
  name: 'base_page',
  // The API's page-and-total SQL (the total is the organization's kept count, migration 0025),
  // with the caller's organization taken from the session in the same statement (an uncorrelated
  // sub-query, evaluated once, so both plan alike).
  text: `with me as (
           select u.organization_id from medreport.sessions s join medreport.users u on u.id = s.user_id
            where s.id = $1 and s.revoked_at is null and s.expires_at > now())
         select p.*, (select coalesce(max(live), 0) from medreport.record_counts c
                       where c.organization_id = (select organization_id from me) and c.entity = 'patients') as total_count
           from medreport.patients p
          where p.organization_id = (select organization_id from me) and p.deleted_at is null
          order by p.created_at desc, p.uuid desc limit $2 offset $3`,
};
const USER = { name: 'base_user', text: `select u.* ${SESSION}` };

function sid(request: FastifyRequest): string {
  const token = request.headers.authorization?.slice(7) ?? '';
  return (verify(token) as { sid: string }).sid;
}

app.get('/bare/patients/:uuid', async (request, reply) => {
  const { rows } = await pool.query({ ...PATIENT, values: [sid(request), (request.params as { uuid: string }).uuid] });
  if (!rows[0]) return reply.code(404).send({ message: 'not found' });
  return rows[0];
});

app.get('/bare/patients', async (request) => {
  const { rows } = await pool.query({ ...PAGE, values: [sid(request), 25, 0] });
  return { data: rows, total: rows[0]?.total_count ?? 0, page: 1, limit: 25 };
});

app.get('/bare/user', async (request, reply) => {
  const { rows } = await pool.query({ ...USER, values: [sid(request)] });
  if (!rows[0]) return reply.code(401).send({ message: 'no session' });
  const { password_hash: _hash, ...user } = rows[0];
  return user;
});

// The work the API does for POST /api/patients (row, activity-log entry, feed entry), one plain
// statement each, in one transaction.
app.post('/bare/patients', async (request, reply) => {
  const body = request.body as { name: string; phone?: string };
  const client = await pool.connect();
  try {
    const { rows } = await client.query({ ...USER, values: [sid(request)] });
    const user = rows[0];
    await client.query('begin');
    const uuid = randomUUID();
    const inserted = await client.query({
      name: 'base_insert_patient',
      text: `insert into medreport.patients (organization_id, uuid, name, phone, created_by)
             values ($1, $2, $3, $4, $5) returning *`,
      values: [user.organization_id, uuid, body.name, body.phone ?? null, user.id],
    });
    await client.query({
      name: 'base_insert_activity',
      text: `insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
             values ($1, $2, $3, 'patient.created', 'patient', $4, $5)`,
      values: [user.organization_id, user.id, user.name, uuid, body.name],
    });
    // The sync feed's entry, its seq drawn under the organization's lock (docs/sync.md).
    await client.query({
      name: 'base_insert_change',
      text: `with lock as materialized (select pg_advisory_xact_lock(hashtextextended('medreport.changes:' || $1::bigint::text, 0)))
             insert into medreport.changes (organization_id, entity, uuid, action, data, user_id)
             select $1::bigint, 'patients', $2, 'upsert', $3, $4 from lock`,
      values: [user.organization_id, uuid, JSON.stringify(inserted.rows[0]), user.id],
    });
    await client.query('commit');
    return reply.code(201).send(inserted.rows[0]);
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
});

// PostgreSQL's own CSV of the same rows the export streams.
app.get('/bare/export', async (request, reply) => {
  const client = await pool.connect();
  const { rows } = await client.query({ ...USER, values: [sid(request)] });
  const stream = client.query(
    copyTo(
      `copy (select uuid, name, birth_date, gender, phone, email, address, blood_group, allergies, notes, created_at
               from medreport.patients where organization_id = ${Number(rows[0].organization_id)} and deleted_at is null
              order by created_at, uuid) to stdout with (format csv, header)`,
    ),
  );
  reply.type('text/csv');
  reply.raw.on('close', () => client.release());
  return reply.send(stream);
});

// GET /api/v1/dossiers for a gestionnaire: the login check, then the API's page-and-total SQL (the
// total is the table's kept count, migration 0026).
const PTITSPAS_CALLER = {
  name: 'base_ptitspas_caller',
  text: `select u.id, u.role, u.statut from ptitspas.refresh_families f join ptitspas.utilisateurs u on u.id = f.id_utilisateur
          where f.id = $1 and u.id = $2 and f.revoque_le is null`,
};
/** The PtitsPas login check the API makes (its account id), or undefined when it is not active. */
async function activePtitsPasLogin(request: FastifyRequest): Promise<string | undefined> {
  const { sub, fid } = verifyPtitsPas(request.headers.authorization?.slice(7) ?? '') as { sub: string; fid: string };
  const caller = await pool.query({ ...PTITSPAS_CALLER, values: [fid, sub] });
  return caller.rows[0]?.statut === 'actif' ? sub : undefined;
}

const DOSSIERS = {
  name: 'base_dossiers',
  text: `select d.*, array(select dp.id_upload from ptitspas.dossiers_pieces dp
                         where dp.id_enfant = d.id_enfant order by dp.position) as pieces,
                (select coalesce(max(total), 0) from ptitspas.row_counts where table_name = 'dossiers') as total_count
           from ptitspas.dossiers d order by d.cree_le desc, d.id_enfant desc limit $1 offset $2`,
};

app.get('/bare/dossiers', async (request, reply) => {
  const sub = await activePtitsPasLogin(request);
  if (!sub) return reply.code(401).send({ message: 'no login' });
  const { rows } = await pool.query({ ...DOSSIERS, values: [20, 0] });
  return reply.header('x-total-count', rows[0]?.total_count ?? 0).send(rows);
});

// GET /api/v1/enfants for a gestionnaire (staff see every child): the login check, then the API's
// page-and-total SQL.
const ENFANTS = {
  name: 'base_enfants',
  text: `select e.id, e.prenom, e.nom, e.genre, e.date_naissance, e.statut, e.consentement_photo,
                (select coalesce(max(total), 0) from ptitspas.row_counts where table_name = 'enfants') as total_count
           from ptitspas.enfants e order by e.cree_le desc, e.id desc limit $1 offset $2`,
};

app.get('/bare/enfants', async (request, reply) => {
  const sub = await activePtitsPasLogin(request);
  if (!sub) return reply.code(401).send({ message: 'no login' });
  const { rows } = await pool.query({ ...ENFANTS, values: [20, 0] });
  return reply.header('x-total-count', rows[0]?.total_count ?? 0).send(rows.map(({ total_count: _, ...e }) => e));
});

// GET /api/v1/auth/me: the login check, which is the profile.
const PTITSPAS_ME = {
  name: 'base_ptitspas_me',
  text: `select u.id, u.email, u.role, u.prenom, u.nom, u.statut
           from ptitspas.refresh_families f join ptitspas.utilisateurs u on u.id = f.id_utilisateur
          where f.id = $1 and u.id = $2 and f.revoque_le is null`,
};

app.get('/bare/ptitspas/me', async (request, reply) => {
  const { sub, fid } = verifyPtitsPas(request.headers.authorization?.slice(7) ?? '') as { sub: string; fid: string };
  const { rows } = await pool.query({ ...PTITSPAS_ME, values: [fid, sub] });
  if (rows[0]?.statut !== 'actif') return reply.code(401).send({ message: 'no login' });
  return rows[0];
});

// GET /api/v1/enfants/:id for a gestionnaire (staff see every child): the login check, then the child.
const ENFANT = {
  name: 'base_enfant',
  text: `select id, prenom, nom, genre, date_naissance, statut, consentement_photo from ptitspas.enfants where id = $1`,
};

app.get('/bare/enfants/:id', async (request, reply) => {
  const sub = await activePtitsPasLogin(request);
  if (!sub) return reply.code(401).send({ message: 'no login' });
  const { rows } = await pool.query({ ...ENFANT, values: [(request.params as { id: string }).id] });
  return rows[0] ?? reply.code(404).send({ message: 'not found' });
});

// GET /api/v1/evenements?id_enfant=&page= for a parent: the login check, then the API's page query
// (the children the parent sees, the page in time order, and the total).
const PARENT_SEES = `v.id_enfant in (select e.id from ptitspas.enfants e where exists (
    select from ptitspas.enfants_parents ep join ptitspas.parents p
        on ep.id_parent = p.id_utilisateur or ep.id_parent = p.id_co_parent
     where ep.id_enfant = e.id and p.id_utilisateur = $1)) and v.id_enfant = $2`;
const EVENEMENTS = {
  name: 'base_evenements',
  text: `select v.*, (select count(*) from ptitspas.evenements v where ${PARENT_SEES}) as total_count
           from ptitspas.evenements v where ${PARENT_SEES}
          order by v.survenu_le asc, v.id asc limit $3 offset $4`,
};

app.get('/bare/evenements', async (request, reply) => {
  const sub = await activePtitsPasLogin(request);
  if (!sub) return reply.code(401).send({ message: 'no login' });
  const { id_enfant, page } = request.query as { id_enfant: string; page: string };
  const { rows } = await pool.query({ ...EVENEMENTS, values: [sub, id_enfant, 20, (Number(page) - 1) * 20] });
  return reply.header('x-total-count', rows[0]?.total_count ?? 0).send(rows);
});

// The same bytes copied into the same backends with a bare stream pipeline: the request body
// straight into a file or a PutObject (its length is the request's), and back.
const BLOB_DIR = process.env.BASELINE_BLOB_DIR ?? path.resolve('.bench/data/bare-blobs');
mkdirSync(BLOB_DIR, { recursive: true });
const s3 = process.env.BASELINE_S3_ENDPOINT
  ? new S3Client({
      endpoint: process.env.BASELINE_S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
  : undefined;
const Bucket = process.env.BASELINE_S3_BUCKET ?? 'bench';
app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

app.put('/bare/blobs/:store/:key', async (request, reply) => {
  const { store, key } = request.params as { store: 'local' | 's3'; key: string };
  const body = request.body as Readable;
  if (store === 'local') await pipeline(body, createWriteStream(path.join(BLOB_DIR, path.basename(key))));
  else {
    const ContentLength = Number(request.headers['content-length']);
    await s3!.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength }));
  }
  return reply.code(201).send({ key });
});

app.get('/bare/blobs/:store/:key', async (request, reply) => {
  const { store, key } = request.params as { store: 'local' | 's3'; key: string };
  reply.type('application/octet-stream');
  if (store === 'local') return reply.send(createReadStream(path.join(BLOB_DIR, path.basename(key))));
  const object = await s3!.send(new GetObjectCommand({ Bucket, Key: key }));
  return reply.send(object.Body as Readable);
});

app.get('/bare/health', async () => ({ status: 'ok' }));

await app.listen({ port: Number(process.env.BASELINE_PORT), host: '127.0.0.1' });
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
);
