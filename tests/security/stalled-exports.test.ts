import net from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';

// Clients that start a CSV export and stop reading: they must not take the connections every
// other clinic needs. Each stalled export here has 6.6 MB to send, far more than the socket
// buffers between a client that reads nothing and the server.

const ORGANIZATIONS = 5;
const STALLED = 20;
const STALL_TIMEOUT_MS = 1_000;

let app: App;
let port: number;
let clinics: TenantFixture[];
let bystander: TenantFixture;
const logLines: string[] = [];
const owner = await testDb();

beforeAll(async () => {
  const logs = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  app = await buildTestApp({
    logger: createLogger('warn', logs),
    config: { exports: { concurrency: 4, perOrganization: 2, stallTimeoutMs: STALL_TIMEOUT_MS } },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as net.AddressInfo).port;
  clinics = [];
  for (let i = 0; i < ORGANIZATIONS; i++) clinics.push(await createOrganization(app, `Export ${i}`));
  bystander = await createOrganization(app, 'Bystander');
  for (const clinic of clinics) {
    await sql`
      insert into medreport.patients (organization_id, uuid, name, notes)
      select ${clinic.organization.id}, gen_random_uuid(), 'Patient ' || i, repeat('n', 1000)
      from generate_series(1, 6000) as i`.execute(owner.db);
  }
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

interface StalledClient {
  status: number;
  retryAfter: string | undefined;
  closed: Promise<void>;
  socket: net.Socket;
}

/** Sends the export request, reads the status line and headers, then never reads again. */
function stalledExport(clinic: TenantFixture): Promise<StalledClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', () => {});
    socket.write(
      `GET /api/patients/export?format=csv HTTP/1.1\r\nhost: localhost\r\n` +
        `authorization: ${clinic.doctor.headers.authorization}\r\n\r\n`,
    );
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const status = Number(head.slice(9, 12));
      const retryAfter = /\r\nretry-after: (\d+)/i.exec(head.slice(0, end))?.[1];
      resolve({ status, retryAfter, closed, socket });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before any answer')));
  });
}

const waitUntil = async (what: string, done: () => boolean, ms = 10_000) => {
  for (const deadline = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

describe('issue 21 item 2: stalled CSV exports', () => {
  it('20 stalled exports from 5 clinics: the others are still served, and the stalled ones let go', async () => {
    const stalled = await Promise.all(
      Array.from({ length: STALLED }, (_, i) => stalledExport(clinics[i % ORGANIZATIONS]!)),
    );

    // Another clinic's reads are answered at once, from a pool no export can hold.
    const list = await app.inject({ method: 'GET', url: '/api/patients?limit=5', headers: bystander.doctor.headers });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toMatchObject({ data: [], total: 0 });
    const created = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: bystander.owner.headers,
      payload: { name: 'Toujours servi' },
    });
    expect(created.statusCode, created.body).toBe(201);

    // Exports are bounded: 4 at once in all, 2 per clinic; the rest are told when to come back.
    const admitted = stalled.filter((s) => s.status === 200);
    const refused = stalled.filter((s) => s.status === 429);
    expect(admitted).toHaveLength(4);
    expect(refused).toHaveLength(STALLED - 4);
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThan(0);

    // No progress for the stall timeout: the server cuts each admitted one off and logs it...
    const aborts = () => logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'export stalled: aborted');
    await waitUntil('four aborts', () => aborts().length === 4);
    expect(aborts()[0]).toMatchObject({ level: 40, organization: expect.any(Number), export: 'patients' });
    // (a client reading again gets what was in flight, then the end of a connection the server closed)
    for (const s of admitted) s.socket.resume();
    await Promise.all(admitted.map((s) => s.closed));

    // ...and every connection is back in its pool.
    for (const pool of [app.tenantPool.pool, app.exports.tenants.pool]) {
      await waitUntil('connections back', () => pool.idleCount === pool.totalCount && pool.waitingCount === 0);
    }

    // A clinic that reads gets its whole export again.
    const full = await app.inject({
      method: 'GET',
      url: '/api/patients/export?format=csv',
      headers: clinics[0]!.owner.headers,
    });
    expect(full.statusCode).toBe(200);
    expect(full.body.trimEnd().split('\r\n')).toHaveLength(6001);
    for (const s of stalled) s.socket.destroy();
  }, 60_000);

  it('answers the error shape with Retry-After to an export past the bounds', async () => {
    const held = await Promise.all([stalledExport(clinics[1]!), stalledExport(clinics[1]!)]);
    expect(held.map((h) => h.status)).toEqual([200, 200]);
    const third = await app.inject({
      method: 'GET',
      url: '/api/patients/export?format=csv',
      headers: clinics[1]!.owner.headers,
    });
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    expect(third.json()).toMatchObject({ success: false, message: expect.stringContaining('export') });
    for (const h of held) h.socket.destroy();
  });
});
