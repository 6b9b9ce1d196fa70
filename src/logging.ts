import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { type ChildLoggerOptions, type DestinationStream, type LogFn, type Logger, pino, stdSerializers } from 'pino';

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

const logRedaction = {
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

/**
 * Query parameters that carry credentials (tokens, OAuth codes and state, tickets, passwords,
 * keys) or an e-mail address (the reset link's: personal data has no place in request logs).
 */
const SECRET_PARAMETERS = new Set([
  'email',
  'jwt',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'code',
  'state',
  'ticket',
  'password',
  'client_secret',
  'api_key',
  'apikey',
  'secret',
]);

// A query parameter wherever a URL sits in a text: `?`, `&` or `;`, a name, `=`, and a value up to
// the next parameter, fragment, space or quote (so `?next=/cb?token=x` still shows its token).
const QUERY_PARAMETER = /([?&;])([^=&;#?\s"']+)=[^&;#?\s"']*/g;

/** A parameter's name as the server reads it: percent-decoded, `+` as space, any case, `[]` dropped. */
function parameterName(raw: string): string {
  let name = raw.replaceAll('+', ' ');
  try {
    name = decodeURIComponent(name);
  } catch {
    // A malformed escape: the query parser keeps it as written too.
  }
  return name.replace(/\[[^\]]*\]$/, '').toLowerCase();
}

/** `text` (a URL, or a message quoting one) with every credential parameter's value replaced. */
export function redactUrl(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(QUERY_PARAMETER, (parameter, separator: string, name: string) =>
    SECRET_PARAMETERS.has(parameterName(name)) ? `${separator}${name}=[REDACTED]` : parameter,
  );
}

/** The top-level text fields of a log call (`url`, `reqUrl`, `path`...), redacted; a copy only if one changed. */
function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value !== 'string') continue;
    const redacted = redactUrl(value);
    if (redacted !== value) {
      copy ??= { ...fields };
      copy[key] = redacted;
    }
  }
  return copy ?? fields;
}

/** Every log call, whoever makes it (our code, Fastify, a plugin): its message and its text fields. */
function redactArguments(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const redacted = args.map((arg: unknown) => {
    if (typeof arg === 'string') return redactUrl(arg);
    if (typeof arg === 'object' && arg !== null && !(arg instanceof Error)) {
      return redactFields(arg as Record<string, unknown>);
    }
    return arg;
  });
  method.apply(this, redacted as Parameters<LogFn>);
}

/** What an error's log line keeps: pg-pool, for one, hangs the whole client (statements, cancel key) on its errors. */
const ERROR_FIELDS = ['type', 'message', 'code', 'statusCode', 'stack'] as const;

/** Errors as pino writes them, cut to ERROR_FIELDS, with URLs in their message or stack redacted. */
function serializeError(error: unknown) {
  const serialized = stdSerializers.err(error as Error) as unknown;
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const full = serialized as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const field of ERROR_FIELDS) if (full[field] !== undefined) kept[field] = full[field];
  return redactFields(kept);
}

/** pino-pretty's message: a completed request as one short line, anything else as written. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  const req = log.req as { method?: string; url?: string } | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  if (message !== 'request completed' || !req) return log.reqId ? `${message} (${String(log.reqId)})` : message;
  const ms = typeof log.responseTime === 'number' ? `${log.responseTime.toFixed(1)} ms` : '';
  return `${req.method} ${req.url} ${res?.statusCode ?? ''} ${ms} (${String(log.reqId)})`;
}

function serializeRequest(request: FastifyRequest) {
  if (typeof request?.url !== 'string') return request; // some other `req` object: redaction paths still apply
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}

/**
 * Fastify's request lines as one line a request, when it is answered: what was asked (method,
 * redacted URL), the status and the time, under the request id.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

function serializeReply(reply: { statusCode?: number }) {
  return { statusCode: reply?.statusCode };
}

/**
 * Readable lines for development on a terminal. pino-pretty (and the modules it pulls in) loads
 * only then: a server writing JSON lines never holds it.
 */
export async function prettyStream(): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    colorize: true,
    sync: true,
    translateTime: 'HH:MM:ss',
    // A request on one line: `GET /api/patients 200 12 ms <request id>`.
    ignore: 'pid,hostname,req,res,responseTime,reqId',
    messageFormat: prettyMessage,
  });
}

/**
 * The process logger, secrets redacted: JSON lines on `stream` (stdout by default). Fastify adds
 * the request id to each request's child.
 */
export function createLogger(level: string, stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: logRedaction,
      serializers: { req: serializeRequest, res: serializeReply, err: serializeError },
      hooks: { logMethod: redactArguments },
    },
    stream,
  );
}

/**
 * Fastify's per-request child logger (its `childLoggerFactory`). Its one binding, the request id
 * (a UUID, or a caller's id of `[\w.:-]` characters: never a secret), is written as it is: pino
 * runs every binding through the redaction, which cost 6% of the CPU of a request answered from
 * the session cache (docs/benchmarks.md). Other bindings take pino's own path.
 */
export function requestLogger(logger: Logger, bindings: Record<string, unknown>, options: ChildLoggerOptions): Logger {
  const { reqId, ...others } = bindings;
  if (typeof reqId !== 'string' || Object.keys(others).length > 0) return logger.child(bindings, options);
  const child = logger.child({}, options);
  // pino.symbols: pino's documented handle on its loggers' state, which its types leave out.
  (child as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] += `,"reqId":${JSON.stringify(reqId)}`;
  return child;
}
