import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument, OpenApiOperation, OpenApiSchema } from '../plugins/openapi-contract.js';
import { OPENAPI_FILE, openApiDocument, serialize } from '../scripts/openapi.js';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { apiRoutes, PUBLIC_ROUTES } from './helpers/route-recipes.js';

// openapi.json is the reviewed contract clients are generated from (docs/clients.md). It is
// regenerated here from the route schemas: any difference fails, so a schema change is always
// committed, and reviewed, as a contract change.

let committed: OpenApiDocument;
let generated: OpenApiDocument;
let app: App;

beforeAll(async () => {
  committed = JSON.parse(await readFile(OPENAPI_FILE, 'utf8'));
  generated = await openApiDocument();
  app = await buildTestApp({ config: { oauth: { google: { clientId: 'id', clientSecret: 'secret' } } } });
});
afterAll(() => app.close());

function* operations(document: OpenApiDocument) {
  for (const [path, item] of Object.entries(document.paths)) {
    // The generator writes nothing but operations under a path.
    for (const [method, operation] of Object.entries(item) as Array<[string, OpenApiOperation]>) {
      yield { path, method, operation };
    }
  }
}

const isPtitsPas = (path: string) => /^\/api\/v1(\/|$)/.test(path);
const refName = (schema: OpenApiSchema | undefined) => /^#\/components\/schemas\/(.+)$/.exec(schema?.$ref ?? '')?.[1];

describe('openapi.json', () => {
  it('is what `npm run openapi` generates from the routes today', () => {
    // A readable failure: the first lines that differ, then the instruction.
    if (serialize(generated) !== serialize(committed)) {
      const now = serialize(generated).split('\n');
      const then = serialize(committed).split('\n');
      const line = now.findIndex((l, i) => l !== then[i]);
      expect.fail(
        `openapi.json is stale from line ${line + 1} (committed: ${then[line]?.trim()} / now: ${now[line]?.trim()}): ` +
          'run `npm run openapi` and review the difference as a contract change',
      );
    }
  });

  it('is what a server serves at /api/docs/json, whatever its configuration', async () => {
    // The route-table app has Google login configured; this one has no OAuth provider at all.
    const plain = await buildTestApp();
    try {
      for (const server of [app, plain]) {
        const res = await server.inject({ method: 'GET', url: '/api/docs/json' });
        expect(res.statusCode).toBe(200);
        expect(serialize(res.json())).toBe(serialize(committed));
      }
    } finally {
      await plain.close();
    }
  });

  it('validates as OpenAPI 3', async () => {
    const api = (await SwaggerParser.validate(structuredClone(committed) as never)) as { openapi?: string };
    expect(api.openapi).toMatch(/^3\./);
  });

  it('documents every route of both APIs', () => {
    const documented = new Set(
      [...operations(committed)].map(
        ({ path, method }) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      ),
    );
    const missing = apiRoutes(app)
      .filter((r) => !r.schema?.hide)
      .map((r) => r.key)
      .filter((key) => !documented.has(key));
    expect(missing).toEqual([]);
    const tags = new Set([...operations(committed)].flatMap(({ operation }) => operation.tags!));
    expect([...tags].filter((t) => t.startsWith('ptitspas-')).length).toBeGreaterThan(3);
    expect([...tags].filter((t) => !t.startsWith('ptitspas-')).length).toBeGreaterThan(3);
  });

  it('gives every operation a unique operationId, a declared and described tag, and a summary', () => {
    const declared = new Map(committed.tags!.map((t) => [t.name, t.description]));
    const ids = new Set<string>();
    for (const { path, method, operation } of operations(committed)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(ids.has(operation.operationId!), `${where}: duplicate operationId`).toBe(false);
      ids.add(operation.operationId!);
      expect(operation.summary, where).toEqual(expect.any(String));
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      for (const tag of operation.tags ?? [])
        expect(declared.get(tag), `${where}: tag ${tag}`).toEqual(expect.any(String));
      // Each API under its own tags.
      for (const tag of operation.tags ?? [])
        expect(tag.startsWith('ptitspas-'), `${where}: tag ${tag}`).toBe(isPtitsPas(path));
    }
  });

  it('names the schema of every request body and every response, errors in each API’s own shape', () => {
    const schemas = committed.components.schemas!;
    for (const { path, method, operation } of operations(committed)) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        expect(schemas[refName(media.schema)!], `${where} body ${type}`).toBeDefined();
      }
      const statuses = Object.keys(operation.responses!);
      expect(statuses, where).toContain('500');
      for (const [status, response] of Object.entries(operation.responses!)) {
        const content = Object.values(response.content ?? {});
        if (['204', '302', '304'].includes(status)) continue; // no body by definition
        expect(content.length, `${where} ${status}`).toBeGreaterThan(0);
        for (const media of content) {
          const name = refName(media.schema);
          expect(name && schemas[name], `${where} ${status}: a named schema`).toBeTruthy();
          if (Number(status) >= 400 && path.startsWith('/api')) {
            expect(name, `${where} ${status}`).toBe(isPtitsPas(path) ? 'PtitsPasError' : 'MedReportError');
          }
        }
      }
      if (operation.requestBody || operation.parameters?.length) {
        expect(statuses, `${where}: its validation status`).toContain(isPtitsPas(path) ? '400' : '422');
      }
    }
  });

  it('puts each API’s own security scheme on exactly its protected routes', () => {
    expect(Object.keys(committed.components.securitySchemes!).sort()).toEqual(['bearerAuth', 'ptitspasBearer']);
    for (const { path, method, operation } of operations(committed)) {
      if (!path.startsWith('/api')) continue;
      const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      const isPublic = PUBLIC_ROUTES.medreport.has(key) || PUBLIC_ROUTES.ptitspas.has(key);
      if (isPublic) expect(operation.security, key).toEqual([]);
      else {
        expect(operation.security, key).toEqual([{ [isPtitsPas(path) ? 'ptitspasBearer' : 'bearerAuth']: [] }]);
        expect(Object.keys(operation.responses!), key).toEqual(expect.arrayContaining(['401', '403', '429']));
      }
    }
  });

  it('writes string choices as `enum`, never as a union of constants', () => {
    expect(JSON.stringify(committed)).not.toMatch(/"const":/);
  });
});
