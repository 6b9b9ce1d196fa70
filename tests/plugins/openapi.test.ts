import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';

let app: App;
beforeAll(async () => {
  // Every optional route on: OAuth routes exist only for configured providers.
  const provider = { clientId: 'id', clientSecret: 'secret' };
  app = await buildTestApp({ config: { oauth: { google: provider, facebook: provider, github: provider } } });
});
afterAll(() => app.close());

/** Routes meant for clients: not Swagger UI's own, not HEAD twins Fastify adds. */
function documentedRoutes() {
  return app.routeTable.filter((r) => !r.schema?.hide && r.method !== 'HEAD' && !r.url.startsWith('/api/docs'));
}

describe('OpenAPI document', () => {
  it('is served as valid OpenAPI 3 JSON listing every registered route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toEqual(expect.any(String));

    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      for (const method of [route.method].flat()) {
        expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
      }
    }
  });

  it('names shared schemas after their $id', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['MedReportError', 'PtitsPasError']));
  });

  it('every route has an operationId, tags, a summary and response schemas', () => {
    const ids = new Set<string>();
    for (const route of documentedRoutes()) {
      const schema = route.schema as Record<string, unknown> | undefined;
      const where = `${[route.method].flat().join(',')} ${route.url}`;
      expect(schema?.operationId, where).toEqual(expect.any(String));
      expect(ids.has(schema?.operationId as string), `${where} operationId is unique`).toBe(false);
      ids.add(schema?.operationId as string);
      expect(schema?.tags, where).toEqual(expect.arrayContaining([expect.any(String)]));
      expect(schema?.summary, where).toEqual(expect.any(String));
      expect(Object.keys((schema?.response as object) ?? {}).length, where).toBeGreaterThan(0);
    }
  });

  it('declares every tag at the top level, with a description', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const declared = new Map<string, string>(
      doc.tags.map((t: { name: string; description: string }) => [t.name, t.description]),
    );
    for (const [path, operations] of Object.entries<Record<string, { tags?: string[] }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const tag of operation.tags ?? []) {
          expect(declared.get(tag), `${method.toUpperCase()} ${path}: tag ${tag}`).toEqual(expect.any(String));
        }
      }
    }
  });

  it('writes string choices as `enum`, never as a union of constants', async () => {
    const body = (await app.inject({ method: 'GET', url: '/api/docs/json' })).body;
    expect(body).not.toMatch(/"const":"/);
    const doc = JSON.parse(body);
    const gender = doc.components.schemas.Patient.properties.gender;
    expect(JSON.stringify(gender)).toContain('"enum":["male","female","other"]');
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('swagger');
  });
});
