import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { PUBLIC_ROUTES, apiRoutes as routesOf } from '../helpers/route-recipes.js';

const PUBLIC = PUBLIC_ROUTES.medreport;

let app: App;
beforeAll(async () => {
  const provider = { clientId: 'id', clientSecret: 'secret' };
  app = await buildTestApp({ config: { oauth: { google: provider, facebook: provider, github: provider } } });
});
afterAll(() => app.close());

const apiRoutes = () => routesOf(app, 'medreport');

describe('authentication over the whole MedReport route table', () => {
  it('finds the routes, the public ones included', () => {
    const all = apiRoutes().map((r) => `${r.method} ${r.url}`);
    for (const route of PUBLIC) expect(all).toContain(route);
    expect(all.length).toBeGreaterThan(PUBLIC.size);
  });

  it.each([
    ['no token', {}],
    ['a garbage token', { authorization: 'Bearer not.a.token' }],
  ])('answers 401 to every other route with %s', async (_label, headers) => {
    const open: string[] = [];
    for (const { method, url } of apiRoutes()) {
      if (PUBLIC.has(`${method} ${url}`)) continue;
      const path = url.replace(/:(\w+)/g, '01890000-0000-7000-8000-000000000000');
      const res = await app.inject({ method: method as 'GET', url: path, headers });
      if (res.statusCode !== 401 || res.json().success !== false) open.push(`${method} ${url} -> ${res.statusCode}`);
    }
    expect(open).toEqual([]);
  });
});
