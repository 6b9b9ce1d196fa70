import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';

const preflight = (app: App, origin: string, url = '/api/login') =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });

describe('CORS in development (any localhost origin)', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildTestApp({ config: { corsOrigins: 'localhost' } });
  });
  afterAll(() => app.close());

  it('answers the preflight of Swagger UI or a Flutter web build on localhost', async () => {
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080']) {
      const res = await preflight(app, origin);
      expect(res.statusCode, origin).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
      expect(String(res.headers['access-control-allow-headers'])).toContain('authorization');
    }
  });

  it('lets the page read the answer and its request id, on both APIs', async () => {
    for (const url of ['/health', '/api/nowhere', '/api/v1/nowhere']) {
      const res = await app.inject({ method: 'GET', url, headers: { origin: 'http://localhost:3000' } });
      expect(res.headers['access-control-allow-origin'], url).toBe('http://localhost:3000');
      expect(String(res.headers['access-control-expose-headers'])).toContain('x-request-id');
    }
  });

  it('does not open the API to other origins', async () => {
    const res = await preflight(app, 'https://evil.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS with CORS_ORIGINS', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildTestApp({ config: { corsOrigins: ['https://app.clinique.fr'] } });
  });
  afterAll(() => app.close());

  it('allows exactly the listed origins', async () => {
    expect((await preflight(app, 'https://app.clinique.fr')).headers['access-control-allow-origin']).toBe(
      'https://app.clinique.fr',
    );
    expect((await preflight(app, 'http://localhost:3000')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('leaves requests without an Origin (mobile apps, curl) as they were', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'a@b.fr', password: 'x' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
