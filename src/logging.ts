import type { FastifyRequest } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Body and object keys whose values never reach the logs, at any of the first three levels. */
const SECRET_KEYS = [
  'password',
  'password_confirmation',
  'current_password',
  'new_password',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  // A childminder's social security number (PtitsPas), in clear or encrypted.
  'nir_chiffre',
];

export const logRedaction = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers.cookie',
    ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ],
  censor: '[REDACTED]',
};

/** Query parameters that carry secrets (OAuth codes, reset and set-password tokens). */
const SECRET_QUERY = /([?&](?:token|code|state|password|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[REDACTED]');
}

export function serializeRequest(request: FastifyRequest) {
  if (typeof request?.url !== 'string') return request; // some other `req` object: redaction paths still apply
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}

/**
 * The process logger, secrets redacted: JSON lines, or readable lines when `pretty` (development
 * on a terminal). Fastify adds the request id to each request's child.
 */
export function createLogger(level: string, stream?: DestinationStream | 'pretty'): Logger {
  const destination =
    stream === 'pretty'
      ? pretty({ colorize: true, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' })
      : stream;
  return pino({ level, redact: logRedaction, serializers: { req: serializeRequest } }, destination);
}
