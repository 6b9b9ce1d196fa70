import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, requestLogger } from '../src/logging.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('log redaction', () => {
  it('hides passwords, tokens and auth headers at any of the first levels', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'p1-secret',
        body: { password_confirmation: 'p2-secret', current_password: 'p3-secret', token: 't1-secret' },
        req: { headers: { authorization: 'Bearer t2-secret', cookie: 'sid=t3-secret' } },
        nested: { deeper: { refresh_token: 't4-secret' } },
        email: 'kept@example.com',
      },
      'attempt',
    );
    const line = lines.join('');
    expect(line).not.toMatch(/secret/);
    expect(line).toContain('[REDACTED]');
    expect(line).toContain('kept@example.com');
  });

  it('hides secret query parameters in logged URLs', () => {
    expect(redactUrl('/api/auth/google/callback?code=abc&state=xyz&x=1')).toBe(
      '/api/auth/google/callback?code=[REDACTED]&state=[REDACTED]&x=1',
    );
    expect(redactUrl('/reset?email=a@b.c&token=zzz')).toBe('/reset?email=[REDACTED]&token=[REDACTED]');
    expect(redactUrl('/api/patients?page=2')).toBe('/api/patients?page=2');
  });
});

describe('logged errors', () => {
  it('keep type, message, code and stack, never what a library hung on them', () => {
    const { lines, logger } = capture();
    // As pg-pool reports a lost idle connection: the whole client rides on the error.
    const err = Object.assign(new Error('Connection terminated unexpectedly'), {
      code: 'ECONNRESET',
      client: { processID: 4242, secretKey: 987654, connectionParameters: { password: 'pg-secret' } },
      detail: 'Key (email)=(patient@example.com) already exists.',
    });
    logger.warn({ err }, 'idle database connection lost');
    const line = JSON.parse(lines.join(''));
    expect(Object.keys(line.err).sort()).toEqual(['code', 'message', 'stack', 'type']);
    expect(line.err).toMatchObject({
      type: 'Error',
      message: 'Connection terminated unexpectedly',
      code: 'ECONNRESET',
    });
    expect(lines.join('')).not.toMatch(/pg-secret|987654|patient@example\.com/);
  });
});

describe('request loggers', () => {
  it('carry the request id as pino would, still redact what is logged, and nest', () => {
    const { lines, logger } = capture();
    const child = requestLogger(logger, { reqId: 'req-1:a.b' }, {});
    child.info({ token: 't-secret', kept: 1 }, 'one');
    child.child({ step: 'inner' }).warn('two');
    const [one, two] = lines.map((line) => JSON.parse(line));
    expect(one).toMatchObject({ reqId: 'req-1:a.b', token: '[REDACTED]', kept: 1, msg: 'one' });
    expect(two).toMatchObject({ reqId: 'req-1:a.b', step: 'inner', msg: 'two', level: 40 });
    expect(child.bindings()).toEqual({ reqId: 'req-1:a.b' });
  });

  it('leave any other binding to pino, redaction included', () => {
    const { lines, logger } = capture();
    requestLogger(logger, { reqId: 'r', user: { password: 'p-secret' } }, {}).info('bound');
    requestLogger(logger, { reqId: 'r', password: 'p-secret' }, {}).info('bound');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ reqId: 'r', user: { password: '[REDACTED]' } }),
      expect.objectContaining({ reqId: 'r', password: '[REDACTED]' }),
    ]);
  });

  it('take the route’s level', () => {
    const { lines, logger } = capture();
    const child = requestLogger(logger, { reqId: 'r' }, { level: 'warn' });
    child.info('dropped');
    child.warn('kept');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['kept']);
  });
});

describe('request lines', () => {
  it('one line per request, with method, URL, status, time and request id', async () => {
    const { buildTestApp } = await import('./helpers/app.js');
    const { lines, logger } = capture();
    const app = await buildTestApp({ logger });
    try {
      const from = lines.length;
      await app.inject({ url: '/health?token=abc', headers: { 'x-request-id': 'line-1' } });
      const own = lines
        .slice(from)
        .map((line) => JSON.parse(line))
        .filter((line) => line.reqId === 'line-1');
      expect(own).toEqual([
        expect.objectContaining({
          msg: 'request completed',
          req: expect.objectContaining({ method: 'GET', url: '/health?token=[REDACTED]' }),
          res: { statusCode: 200 },
          responseTime: expect.any(Number),
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});
