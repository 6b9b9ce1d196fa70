import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installApiBoundary } from '../../plugins/boundary.js';
import { errorResponses, HttpError } from '../../plugins/errors.js';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';

const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(JSON.parse(String(chunk)));
    done();
  },
});

const Patient = Type.Object({
  name: Type.String({ minLength: 2 }),
  email: Type.String({ format: 'email' }),
  age: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * The same probe routes in a scope of each API, set up as each API tree sets up its own (its
 * boundary: error and not-found handlers, body parsers); the shape must follow the API.
 */
function probes(app: App, prefix: string, api: 'medreport' | 'ptitspas') {
  const errors = errorResponses(api, 400, 404, 409, 413, 415, 422, 500);
  app.register(
    async (scope) => {
      installApiBoundary(scope, api);
      scope.post('/__probe/validate', { schema: { hide: true, body: Patient, response: errors } }, async () => ({}));
      scope.get('/__probe/crash', { schema: { hide: true, response: errors } }, async () => {
        throw new Error('secret connection string postgres://admin:hunter2@db');
      });
      scope.get('/__probe/conflict', { schema: { hide: true, response: errors } }, async () => {
        throw new HttpError(409, 'Cet e-mail est déjà utilisé.', { errors: { email: ['Déjà utilisé.'] } });
      });
      scope.get(
        '/__probe/item/:id',
        { schema: { hide: true, params: Type.Object({ id: Type.String() }), response: errors } },
        async () => ({}),
      );
    },
    { prefix: `${prefix}/__probe-scope` },
  );
}

let app: App;
beforeAll(async () => {
  app = await buildTestApp({
    config: { bodyLimit: 4096 },
    // warn: a 500's own line must say which request failed without the request log lines.
    logger: createLogger('warn', logStream),
    beforeReady: (a) => {
      probes(a, '/api', 'medreport');
      probes(a, '/api/v1', 'ptitspas');
    },
  });
});
afterAll(() => app.close());

describe('MedReport error shape (/api)', () => {
  it('422 with messages per field on invalid input', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      payload: { name: 'J', age: -1 },
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body).toMatchObject({ success: false, message: expect.stringContaining('(et 2 autre(s) erreur(s))') });
    expect(body.error).toEqual(expect.any(String));
    expect(body.errors).toEqual({
      name: ['Le champ name doit contenir au moins 2 caractère(s).'],
      email: ['Le champ email est obligatoire.'],
      age: ['Le champ age doit être supérieur ou égal à 0.'],
    });
  });

  it('422 names format violations', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      payload: { name: 'Jo', email: 'nope' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual({ email: ['Le champ email doit être une adresse e-mail valide.'] });
  });

  it('404 on an unknown route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nowhere?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      success: false,
      message: 'Route GET /api/nowhere introuvable.',
      error: 'Route GET /api/nowhere introuvable.',
    });
  });

  it('400 on malformed JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "Jo",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, message: "Le corps de la requête n'est pas un JSON valide." });
  });

  it('413 on a body over the limit', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      payload: { name: 'x'.repeat(5000), email: 'a@b.cd' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ success: false, message: 'Le corps de la requête est trop volumineux.' });
  });

  it('domain errors keep their status, message and field errors', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/__probe-scope/__probe/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      success: false,
      message: 'Cet e-mail est déjà utilisé.',
      error: 'Cet e-mail est déjà utilisé.',
      errors: { email: ['Déjà utilisé.'] },
    });
  });

  it('500 without internals, logged with the request id', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/__probe-scope/__probe/crash',
      headers: { 'x-request-id': 'crash-1' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      success: false,
      message: 'Erreur interne du serveur.',
      error: 'Erreur interne du serveur.',
    });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('stack');
    const logged = logLines.find((l) => l.reqId === 'crash-1' && l.level === 50);
    expect(logged).toMatchObject({
      msg: 'unhandled error',
      method: 'GET',
      route: '/api/__probe-scope/__probe/crash',
      statusCode: 500,
      err: { message: expect.stringContaining('hunter2') },
    });
  });

  it('415 on a body type the route does not read, without looking at it', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      headers: { 'content-type': 'text/plain' },
      payload: '{"name":"Jo","email":"a@b.cd"}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      success: false,
      message: "Ce type de contenu n'est pas pris en charge : envoyez application/json.",
      error: "Ce type de contenu n'est pas pris en charge : envoyez application/json.",
    });
  });

  it('an empty JSON body is no body: 422 where one is required', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/__probe-scope/__probe/validate',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().success).toBe(false);
  });

  it('answers a malformed URL encoding in French, in the API shape, before any route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/patients/%zz' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      success: false,
      message: "L'URL contient un encodage invalide.",
      error: "L'URL contient un encodage invalide.",
    });
  });

  it('never echoes an oversized path back', async () => {
    const long = 'x'.repeat(8000);
    for (const url of [`/api/__probe-scope/__probe/item/${long}`, `/api/nowhere/${long}`]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url.slice(0, 40)).toBe(404);
      expect(res.json().success).toBe(false);
      expect(res.body.length).toBeLessThan(300);
    }
  });
});

describe('PtitsPas error shape (/api/v1)', () => {
  it('answers a malformed URL encoding and an oversized path in its own shape', async () => {
    const bad = await app.inject({ method: 'GET', url: '/api/v1/enfants/%zz' });
    expect(bad.json()).toEqual({
      statusCode: 400,
      message: "L'URL contient un encodage invalide.",
      error: 'Bad Request',
    });
    const long = await app.inject({ method: 'GET', url: `/api/v1/__probe-scope/__probe/item/${'x'.repeat(8000)}` });
    expect(long.json()).toEqual({ statusCode: 404, message: 'Ressource introuvable.', error: 'Not Found' });
  });

  it('415 on text/plain', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/__probe-scope/__probe/validate',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.json()).toEqual({
      statusCode: 415,
      message: "Ce type de contenu n'est pas pris en charge : envoyez application/json.",
      error: 'Unsupported Media Type',
    });
  });

  it('400 with the NestJS shape on invalid input', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/__probe-scope/__probe/validate',
      payload: { name: 'Jo' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, message: 'Le champ email est obligatoire.', error: 'Bad Request' });
  });

  it('404 on an unknown route', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      message: 'Route DELETE /api/v1/nowhere introuvable.',
      error: 'Not Found',
    });
  });

  it('400 on malformed JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/__probe-scope/__probe/validate',
      headers: { 'content-type': 'application/json' },
      payload: '{oops',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      message: "Le corps de la requête n'est pas un JSON valide.",
      error: 'Bad Request',
    });
  });

  it('413 on a body over the limit', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/__probe-scope/__probe/validate',
      payload: { name: 'x'.repeat(5000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      statusCode: 413,
      message: 'Le corps de la requête est trop volumineux.',
      error: 'Payload Too Large',
    });
  });

  it('409 domain errors', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/__probe-scope/__probe/conflict' });
    expect(res.json()).toEqual({ statusCode: 409, message: 'Cet e-mail est déjà utilisé.', error: 'Conflict' });
  });

  it('500 without internals', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/__probe-scope/__probe/crash' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      statusCode: 500,
      message: 'Erreur interne du serveur.',
      error: 'Internal Server Error',
    });
  });
});
