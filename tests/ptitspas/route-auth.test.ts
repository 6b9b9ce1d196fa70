import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { apiRoutes, PUBLIC_ROUTES } from '../helpers/route-recipes.js';
import { bearer, registerUser } from '../helpers/users.js';

const PUBLIC = PUBLIC_ROUTES.ptitspas;

let app: App;
let medreportToken: string;
beforeAll(async () => {
  app = await buildTestApp();
  medreportToken = (await registerUser(app)).token;
});
afterAll(() => app.close());

const ptitspasRoutes = () => apiRoutes(app, 'ptitspas');

describe('authentication over the whole PtitsPas route table', () => {
  it('finds the routes, the public ones included', () => {
    const all = ptitspasRoutes().map((r) => `${r.method} ${r.url}`);
    for (const route of PUBLIC) expect(all).toContain(route);
    expect(all.length).toBeGreaterThan(PUBLIC.size);
  });

  it.each([
    ['no token', () => ({})],
    ['a garbage token', () => ({ authorization: 'Bearer not.a.token' })],
    ['a MedReport token', () => bearer(medreportToken)],
  ])('answers 401 in the PtitsPas shape to every other route with %s', async (_label, headers) => {
    const open: string[] = [];
    for (const { method, url } of ptitspasRoutes()) {
      if (PUBLIC.has(`${method} ${url}`)) continue;
      const path = url.replace(/:(\w+)/g, '01890000-0000-7000-8000-000000000000');
      const res = await app.inject({ method: method as 'GET', url: path, headers: headers() });
      const body = res.json();
      if (res.statusCode !== 401 || body.statusCode !== 401 || body.error !== 'Unauthorized' || 'success' in body) {
        open.push(`${method} ${url} -> ${res.statusCode} ${res.body}`);
      }
    }
    expect(open).toEqual([]);
  });
});
