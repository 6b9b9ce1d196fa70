import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';

// Clients put tokens in query strings (links in e-mails, OAuth callbacks, WebSocket handshakes,
// SDKs that cannot set headers). Whatever logs a request's URL, at any level, must not write them.

interface LogLine {
  reqId?: string;
  msg?: string;
  req?: { url?: string };
  [key: string]: unknown;
}

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

let app: App;
beforeAll(async () => {
  app = await buildTestApp({
    logger: createLogger('trace', sink),
    beforeReady: (a) => {
      a.get('/__probe/crash', { schema: { hide: true } }, async () => {
        throw new Error('lost the database');
      });
      // A library that puts the URL it was given into its error (Fastify's "reply already sent" does).
      a.get('/__probe/echo-url', { schema: { hide: true } }, async (request) => {
        throw new Error(`upstream refused ${request.url}`);
      });
    },
  });
});
afterAll(() => app.close());

const PARAMETERS = ['jwt', 'token', 'access_token', 'auth', 'code', 'ticket', 'email'];

/** The same parameter as clients may spell it: any case, percent-encoded, as a list. */
const spellings = (name: string) => [
  name,
  name.toUpperCase(),
  name[0]!.toUpperCase() + name.slice(1),
  `%${name.charCodeAt(0).toString(16)}${name.slice(1)}`,
  [...name].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join(''),
  `${name}[]`,
];

/** The route, its status, and the line that closes its log (Fastify writes no completion line for a URL it cannot route). */
const ROUTES: Array<[what: string, path: string, status: number, closing: string]> = [
  ['a public route', '/health', 200, 'request completed'],
  ['a MedReport 404', '/api/nothing-here', 404, 'request completed'],
  ['a PtitsPas 404', '/api/v1/nothing-here', 404, 'request completed'],
  ['an unknown path outside both APIs', '/nothing-here', 404, 'request completed'],
  ['a MedReport 401', '/api/user', 401, 'request completed'],
  ['a PtitsPas 401', '/api/v1/auth/me', 401, 'request completed'],
  // The pages e-mailed links open: their token is in the query string by design.
  ['the MedReport reset page', '/reset-password', 200, 'request completed'],
  ['the PtitsPas set-password page', '/ptitspas/definir-mot-de-passe', 200, 'request completed'],
  ['a malformed path refused before routing', '/api/%zz', 400, 'request refused before routing'],
  ['a 500', '/__probe/crash', 500, 'request completed'],
  ['a 500 whose error quotes the URL', '/__probe/echo-url', 500, 'request completed'],
];

/** Sends `path?page=2&<parameter>=<secret>&x=1` and answers the log lines of that request. */
async function send(path: string, parameter: string) {
  const secret = `s3cret-${randomUUID()}`;
  const requestId = `req-${randomUUID()}`;
  const from = lines.length;
  const res = await app.inject({
    url: `${path}?page=2&${parameter}=${secret}&x=1`,
    headers: { 'x-request-id': requestId },
  });
  const own = lines.slice(from).filter((line) => line.includes(requestId));
  return { res, secret, own, parsed: own.map((line) => JSON.parse(line) as LogLine) };
}

describe('issue 21 item 9: credentials in logs', () => {
  describe.each(ROUTES)('on %s (%s)', (_what, path, status, closing) => {
    it.each(PARAMETERS.flatMap(spellings))(
      '?%s= is written [REDACTED], every other parameter kept',
      async (parameter) => {
        const { res, secret, own, parsed } = await send(path, parameter);
        expect(res.statusCode).toBe(status);
        expect(res.body).not.toContain(secret);
        expect(own.length).toBeGreaterThanOrEqual(1);
        for (const line of own) expect(line).not.toContain(secret);

        const request = parsed.find((line) => line.msg === closing);
        expect(request?.req?.url).toBe(`${path}?page=2&${parameter}=[REDACTED]&x=1`);
      },
    );
  });

  it('the error line of a 500 that quoted the URL keeps it, redacted', async () => {
    const { parsed, secret } = await send('/__probe/echo-url', 'token');
    const failure = parsed.find((line) => line.msg === 'unhandled error');
    expect(JSON.stringify(failure)).toContain('upstream refused /__probe/echo-url?page=2&token=[REDACTED]&x=1');
    expect(JSON.stringify(failure)).not.toContain(secret);
  });

  it('a log message quoting a URL is redacted too', async () => {
    const secret = `s3cret-${randomUUID()}`;
    const from = lines.length;
    app.log.warn(`Reply was already sent, did you forget to "return reply" in the "/api/x?jwt=${secret}" (GET) route?`);
    const written = lines.slice(from).join('');
    expect(written).toContain('/api/x?jwt=[REDACTED]');
    expect(written).not.toContain(secret);
  });

  it('parameters that only look alike are kept', async () => {
    const requestId = `req-${randomUUID()}`;
    const from = lines.length;
    await app.inject({ url: '/health?tokens=1&my_code=2&author=3&page=4', headers: { 'x-request-id': requestId } });
    const incoming = lines
      .slice(from)
      .map((line) => JSON.parse(line) as LogLine)
      .find((line) => line.reqId === requestId && line.msg === 'request completed');
    expect(incoming?.req?.url).toBe('/health?tokens=1&my_code=2&author=3&page=4');
  });
});
