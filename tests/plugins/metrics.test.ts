import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildTestApp } from '../helpers/app.js';
import { ptitspasSuperAdmin } from '../helpers/ptitspas.js';

// GET /metrics (plugins/metrics.ts, routes/metrics.ts): Prometheus's text format behind a bearer
// token, parsed here as a scraper would.

const TOKEN = 'metrics-token-for-the-tests-0123456789abcdef';
let app: App;
let plain: App;

beforeAll(async () => {
  app = await buildTestApp({ config: { metricsToken: TOKEN } });
  plain = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await plain.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition format: `# HELP`, `# TYPE`, then `name{label="value",...} number` lines. */
function parse(text: string) {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(sample, line).not.toBeNull();
    const labels = Object.fromEntries(
      [...(sample![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    samples.push({ name: sample![1]!, labels, value: Number(sample![3]) });
  }
  return { types, samples };
}

const scrape = async (target = app) => {
  const res = await target.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(res.body);
};

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('GET /metrics', () => {
  it('is not served without METRICS_TOKEN, and refuses a missing or wrong token with 401', async () => {
    const off = await plain.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(off.statusCode).toBe(404);
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, TOKEN, `Bearer ${TOKEN.slice(1)}`]) {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json()).toMatchObject({ success: false, message: 'Jeton de métriques manquant ou invalide.' });
      expect(res.body).not.toContain('http_request');
    }
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });

  it('counts requests by method, route pattern and status, with their durations', async () => {
    const admin = await ptitspasSuperAdmin(app);
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    for (const id of ['a', 'b']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: admin.headers });
      expect(res.statusCode).toBe(400);
    }
    await app.inject({ method: 'GET', url: '/nowhere/at/all' });
    const { types, samples } = await scrape();
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    const count = (labels: Record<string, string>) =>
      find(samples, 'http_request_duration_seconds_count', labels).reduce((n, s) => n + s.value, 0);
    expect(count({ method: 'GET', route: '/health', status: '200' })).toBe(3);
    // The pattern, not the path: one series for every id.
    expect(count({ method: 'GET', route: '/api/v1/users/:id', status: '400' })).toBe(2);
    const routes = find(samples, 'http_request_duration_seconds_count').map((s) => s.labels.route);
    expect(routes.filter((r) => r?.startsWith('/api/v1/users/') && r !== '/api/v1/users/:id')).toEqual([]);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    const buckets = find(samples, 'http_request_duration_seconds_bucket', { route: '/health', status: '200' });
    expect(buckets.find((b) => b.labels.le === '+Inf')!.value).toBe(3);
    expect(find(samples, 'http_request_duration_seconds_sum', { route: '/health' })[0]!.value).toBeGreaterThan(0);
  });

  it('shows every pool, the hash queue, exports, live sockets and the process', async () => {
    const { types, samples } = await scrape();
    for (const pool of ['system', 'tenant', 'cross_organization', 'exports']) {
      const states = find(samples, 'db_pool_connections', { pool }).map((s) => s.labels.state);
      expect(states.sort(), pool).toEqual(['idle', 'in_use', 'waiting']);
    }
    // The login above hashed once, through the queue: nothing running or waiting now.
    expect(find(samples, 'password_hash_running')[0]!.value).toBe(0);
    expect(find(samples, 'password_hash_waiting')[0]!.value).toBe(0);
    expect(types.get('password_hash_wait_seconds')).toBe('histogram');
    expect(find(samples, 'export_streams')[0]!.value).toBe(0);
    expect(find(samples, 'ptitspas_live_sockets')[0]!.value).toBe(0);
    expect(find(samples, 'process_resident_memory_bytes')[0]!.value).toBeGreaterThan(10_000_000);
    expect(types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
  });

  it('serves every metric the example Grafana dashboard queries (docs/ops/grafana-dashboard.json)', async () => {
    const { types } = await scrape();
    const dashboard = JSON.parse(await readFile('docs/ops/grafana-dashboard.json', 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const queried = new Set(
      dashboard.panels
        .flatMap((p) => p.targets.map((t) => t.expr))
        .flatMap((expr) => [
          ...expr.matchAll(
            /\b([a-z_]+_(?:seconds|bytes|connections|running|waiting|streams|sockets|total)(?:_bucket|_count|_sum)?)\b/g,
          ),
        ])
        .map((m) => m[1]!.replace(/_(bucket|count|sum)$/, '')),
    );
    expect(queried.size).toBeGreaterThan(6);
    for (const name of queried) expect(types.has(name), name).toBe(true);
  });
});
