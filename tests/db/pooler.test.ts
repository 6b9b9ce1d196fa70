import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../db/connection.js';
import { hasPgBouncer, type PgBouncer, startPgBouncer } from '../../scripts/pgbouncer.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testAppDatabaseUrl } from '../helpers/database.js';
import { ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';
import { createPlatformAdmin } from '../helpers/users.js';

// DATABASE_POOLER=transaction, through a real PgBouncer in transaction mode with fewer server
// connections than clients. CI installs pgbouncer (.ci/run) and must run this file.
if (process.env.CI === 'true' && !hasPgBouncer) throw new Error('CI must provide pgbouncer for the pooler test');

let bouncer: PgBouncer;
let directUrl: string;
let app: App;

beforeAll(async () => {
  if (!hasPgBouncer) return;
  directUrl = await testAppDatabaseUrl();
  bouncer = await startPgBouncer([directUrl], { poolSize: 2 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await bouncer?.stop();
});

describe.runIf(hasPgBouncer)('behind PgBouncer in transaction mode', () => {
  it('named prepared statements do not survive it (why the setting exists)', async () => {
    const pool = createPool(bouncer.through(directUrl), { max: 2 });
    try {
      const a = await pool.connect();
      const b = await pool.connect();
      try {
        // Each client prepares the "same" statement on whichever server connection it gets.
        await a.query('select $1::int as n', [1]);
        const failure = await b.query('select $1::int as n', [2]).then(
          () => undefined,
          (err: { code?: string }) => err.code,
        );
        // 42P05: already prepared there by the other client; 26000: prepared on another connection.
        expect(['42P05', '26000']).toContain(failure);
      } finally {
        a.release(true);
        b.release(true);
      }
    } finally {
      await pool.end();
    }
  });

  describe('with DATABASE_POOLER=transaction', () => {
    const clinics: TenantFixture[] = [];

    beforeAll(async () => {
      app = await buildTestApp({
        config: {
          databaseUrl: bouncer.through(directUrl),
          databasePooler: 'transaction',
          databaseListenUrl: directUrl,
          databasePoolMax: 6,
        },
      });
      for (let i = 0; i < 4; i++) clinics.push(await createOrganization(app, `Clinique ${i}`));
    }, 60_000);

    it('keeps every organization to its own rows while they share two server connections', async () => {
      const created = await Promise.all(
        clinics.map(async (clinic, i) => {
          const names: string[] = [];
          for (let n = 0; n < 6; n++) {
            const name = `Patient ${i}-${n}`;
            const res = await app.inject({
              method: 'POST',
              url: '/api/patients',
              headers: clinic.doctor.headers,
              payload: { name },
            });
            expect(res.statusCode, res.body).toBe(201);
            names.push(name);
          }
          return names;
        }),
      );
      const lists = await Promise.all(
        clinics.map((clinic) =>
          app.inject({ method: 'GET', url: '/api/patients?per_page=100', headers: clinic.doctor.headers }),
        ),
      );
      lists.forEach((res, i) => {
        expect(res.statusCode, res.body).toBe(200);
        expect(
          res
            .json()
            .data.map((p: { name: string }) => p.name)
            .sort(),
        ).toEqual(created[i]!.sort());
      });
    });

    it('runs sync pushes (one transaction each), pulls, and streamed exports', async () => {
      const [clinic] = clinics;
      const patient = randomUUID();
      const push = await app.inject({
        method: 'POST',
        url: '/api/sync/batch',
        headers: clinic!.doctor.headers,
        payload: {
          patients: [{ uuid: patient, name: 'Awa Ndiaye', updated_at: new Date().toISOString() }],
          prescriptions: [
            {
              uuid: randomUUID(),
              patient_uuid: patient,
              medication: 'Paracétamol',
              updated_at: new Date().toISOString(),
            },
          ],
        },
      });
      expect(push.statusCode, push.body).toBe(200);
      expect(push.json().errors).toEqual([]);
      const pull = await app.inject({ method: 'GET', url: '/api/sync/changes', headers: clinic!.doctor.headers });
      expect(pull.statusCode, pull.body).toBe(200);
      expect(pull.json().changes.patients.map((c: { uuid: string }) => c.uuid)).toContain(patient);
      const csv = await app.inject({
        method: 'GET',
        url: '/api/patients/export?format=csv',
        headers: clinic!.doctor.headers,
      });
      expect(csv.statusCode).toBe(200);
      expect(csv.body).toContain('Awa Ndiaye');
      expect(csv.body).not.toContain('Patient 1-');
    });

    it('reads across organizations only on the administrators’ handle', async () => {
      const admin = await createPlatformAdmin(app);
      const res = await app.inject({ method: 'GET', url: '/api/admin/dashboard/stats', headers: admin.headers });
      expect(res.statusCode, res.body).toBe(200);
      const patients = res.json().stats.find((s: { key: string }) => s.key === 'patients');
      expect(Number(patients.value)).toBeGreaterThanOrEqual(25);
    });

    it('revokes a session at once (LISTEN on the direct connection) and serves PtitsPas', async () => {
      const [clinic] = clinics;
      const me = await app.inject({ method: 'GET', url: '/api/user', headers: clinic!.owner.headers });
      expect(me.statusCode).toBe(200);
      const out = await app.inject({ method: 'POST', url: '/api/logout', headers: clinic!.owner.headers });
      expect(out.statusCode).toBe(200);
      const after = await app.inject({ method: 'GET', url: '/api/user', headers: clinic!.owner.headers });
      expect(after.statusCode).toBe(401);

      const superAdmin = await ptitspasSuperAdmin(app);
      const parent = await ptitspasAccount(app, superAdmin, 'parent');
      const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: parent.headers });
      expect(profile.statusCode, profile.body).toBe(200);
      expect(profile.json().email).toBe(parent.email);
    });
  });
});
