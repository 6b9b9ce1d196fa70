import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { testDb } from './helpers/database.js';
import { eventually } from './helpers/poll.js';

describe('probes', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  it('GET /health says the process is up', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', uptime: expect.any(Number) });
  });

  it('GET /ready says the database answers', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', database: 'up', storage: 'up', redis: 'unused', load: 'normal' });
  });

  it('GET / and GET /api name both APIs, and every link they give answers', async () => {
    for (const url of ['/', '/api']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toEqual({
        apis: [
          { name: 'MedReport', base: '/api', spec: 'medreport-api.md' },
          { name: 'PtitsPas', base: '/api/v1', spec: 'ptitspas-api.md, ptitspas-evolutions.md' },
        ],
        docs: '/api/docs',
        openapi: '/api/docs/json',
        health: '/health',
        ready: '/ready',
      });
    }
    const { docs, openapi, health, ready } = (await app.inject({ method: 'GET', url: '/' })).json();
    for (const link of [openapi, health, ready, '/api/v1']) {
      expect((await app.inject({ method: 'GET', url: link })).statusCode, link).toBe(200);
    }
    expect([200, 302]).toContain((await app.inject({ method: 'GET', url: docs })).statusCode);
  });

  it('every response carries a request id, and a well-formed caller id is kept', async () => {
    const generated = await app.inject({ method: 'GET', url: '/health' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'edge-42' } });
    expect(given.headers['x-request-id']).toBe('edge-42');
    const hostile = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'a b\nc' } });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('shutdown', () => {
  it('app.close() gives every database connection back', async () => {
    const app = await buildTestApp();
    await app.inject({ method: 'GET', url: '/ready' });
    await sql`select 1`.execute(app.tenantPool.forOrganization(1));
    await app.close();
    const owner = await testDb();
    try {
      // A backend leaves pg_stat_activity as it exits, a moment after its client hung up.
      const open = async () =>
        (
          await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
             where datname = current_database() and application_name like 'medreport-ptitspas%'
               and pid <> pg_backend_pid()`.execute(owner.db)
        ).rows[0]!.n;
      expect(await eventually(open, (n) => n === 0)).toBe(0);
    } finally {
      await owner.db.destroy();
    }
  });
});

describe('readiness without a database', () => {
  it('GET /ready answers 503 while /health stays 200', async () => {
    // Nothing listens on port 1: the pool cannot connect.
    const app = await buildTestApp({ config: { databaseUrl: 'postgres://nobody:x@127.0.0.1:1/none' } });
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        status: 'unavailable',
        database: 'down',
        storage: 'up',
        redis: 'unused',
        load: 'normal',
      });
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('readiness without the storage', () => {
  it('GET /ready answers 503 when the storage directory is gone, and ready again once it is back', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'ready-storage-'));
    const app = await buildTestApp({ config: { storage: { backend: 'local', root } } });
    try {
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
      await rm(root, { recursive: true });
      const gone = await app.inject({ method: 'GET', url: '/ready' });
      expect(gone.statusCode).toBe(503);
      expect(gone.json()).toMatchObject({ status: 'unavailable', database: 'up', storage: 'down' });
      await mkdir(root);
      expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({ status: 'ready' });
    } finally {
      await app.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
