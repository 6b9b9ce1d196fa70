import AjvCompiler from '@fastify/ajv-compiler';
import type {
  FastifyInstance,
  FastifySchema,
  FastifySchemaCompiler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { type Api, installErrorHandlers } from './errors.js';

/**
 * The trust boundary every route of both APIs shares, applied by construction rather than by
 * each route remembering it (docs/security.md):
 *
 * - every object schema of a body, querystring or params is closed: unknown keys are dropped
 *   before validation ends, so they never reach a handler, let alone SQL;
 * - every integer and number is bounded (±2^53 − 1), which also refuses Infinity and NaN;
 * - bodies are validated without type coercion (a JSON array is never read as a scalar);
 *   querystrings and params are coerced from text, but a repeated key stays an array (422);
 * - strings holding NUL or a lone UTF-16 surrogate, numbers that are not finite and values nested
 *   deeper than MAX_DEPTH are refused with the field named.
 */

const SAFE = Number.MAX_SAFE_INTEGER;
const CLOSED_PARTS = ['body', 'querystring', 'params'] as const;

type Schema = Record<string | symbol, unknown>;

/**
 * Closed copies, by source schema: the same route schema gives the same closed object in every app
 * of the process, so its compiled validator is reused (strictValidators).
 */
const closedCopies = new WeakMap<object, unknown>();

/** A copy of `schema` with every object closed and every number bounded. */
export function closeSchema<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(closeSchema) as T;
  if (!schema || typeof schema !== 'object') return schema;
  const source = schema as Schema;
  if (typeof source.$ref === 'string') return schema;
  const known = closedCopies.get(source);
  if (known) return known as T;
  const out: Schema = { ...source };
  closedCopies.set(source, out);
  const isObject = source.type === 'object' || (source.properties !== undefined && source.type === undefined);
  if (isObject && out.additionalProperties === undefined) out.additionalProperties = false;
  if (source.type === 'integer' || source.type === 'number') {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = SAFE;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -SAFE;
  }
  for (const key of ['properties', 'patternProperties'] as const) {
    const props = source[key] as Record<string, unknown> | undefined;
    if (props) out[key] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, closeSchema(v)]));
  }
  for (const key of ['items', 'anyOf', 'oneOf', 'allOf', 'not'] as const) {
    if (source[key] !== undefined) out[key] = closeSchema(source[key]);
  }
  if (source.additionalProperties && typeof source.additionalProperties === 'object') {
    out.additionalProperties = closeSchema(source.additionalProperties);
  }
  return out as T;
}

/** The route's request schemas, closed; a body given per content type is closed per type. */
function closeRouteSchema(schema: FastifySchema): FastifySchema {
  const closed: FastifySchema = { ...schema };
  for (const part of CLOSED_PARTS) {
    const s = schema[part] as Schema | undefined;
    if (!s) continue;
    const content = s.content as Record<string, { schema: unknown }> | undefined;
    closed[part] = content
      ? {
          ...s,
          content: Object.fromEntries(
            Object.entries(content).map(([type, c]) => [type, { ...c, schema: closeSchema(c.schema) }]),
          ),
        }
      : closeSchema(s);
  }
  return closed;
}

/**
 * Query strings as clients send them: `a=1&a=2` is an array (so it fails a scalar field), and
 * `entities[]=x` is always an array named `entities` (the sync spec's form). Other bracketed
 * keys (`page[0]`) are unknown keys, dropped by the closed schema.
 */
export function parseQuerystring(query: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [rawKey, value] of new URLSearchParams(query)) {
    const isList = rawKey.endsWith('[]');
    const key = isList ? rawKey.slice(0, -2) : rawKey;
    const existing = out[key];
    if (existing === undefined) out[key] = isList ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

/**
 * One Ajv per set of shared schemas and options in the process rather than per app: Ajv keeps
 * what it compiled by schema object, so a second app of the same process (tests build about a
 * hundred) reuses the first one's validators instead of compiling every route again.
 */
const validatorPool = AjvCompiler();

/**
 * Fastify's validator factory, with two Ajv configurations: bodies are never coerced (JSON has
 * types), querystrings, params and headers are coerced from text but never between arrays and
 * scalars.
 */
export function strictValidators() {
  return (externalSchemas: unknown, options: { customOptions?: Record<string, unknown> }) => {
    const build = (coerceTypes: boolean) =>
      validatorPool(
        // @fastify/ajv-compiler's standalone pool types its options and result more narrowly than Fastify's compiler.
        externalSchemas as never,
        {
          ...options,
          customOptions: { ...options.customOptions, coerceTypes, removeAdditional: true },
        } as never,
      ) as unknown as FastifySchemaCompiler<unknown>;
    const body = build(false);
    const text = build(true);
    return (route: { httpPart?: string }) =>
      whenFirstUsed(() => (route.httpPart === 'body' ? body : text)(route as never));
  };
}

export type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown };

/**
 * A validator or serializer compiled by its first call rather than when the app starts: most
 * processes serve a few of the ~300 routes, and every compiled one stays in memory and cost
 * start-up time. (Ajv reports a failure on the function itself, as `errors`: it is copied over.)
 */
export function whenFirstUsed(compile: () => Compiled): Compiled {
  let compiled: Compiled | undefined;
  const validate: Compiled = (...args) => {
    compiled ??= compile();
    const valid = compiled(...args);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

// NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const BAD_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type BadValue = { path: string; keyword: 'text' | 'finite' | 'depth' | 'minProperties' };

/** Deeper than any request of either API nests (a sync push item's field is at 3). */
const MAX_DEPTH = 32;

/**
 * The first value in `value` that PostgreSQL or a client would choke on: a string with NUL or a
 * lone surrogate, a number that is not finite (Ajv's coercion turns `?page=1e309` into Infinity
 * and then skips its own bounds for it), or anything nested deeper than MAX_DEPTH. Walks with its
 * own stack: 10,000 nested arrays must not overflow the process's. The stack holds one frame per
 * open object or array, and a value's path is written only when it is the bad one: this runs on
 * every request (a 100-item push is 600 values).
 */
export function findBadValue(value: unknown, path = ''): BadValue | undefined {
  const keyword = badScalar(value);
  if (keyword) return { path, keyword };
  if (!isContainer(value)) return undefined;
  const open: Frame[] = [frameOf(value)];
  // The path of the value being checked: each open frame's current key.
  const here = () => path + open.map((f) => `/${f.keys[f.next - 1]}`).join('');
  while (open.length > 0) {
    const top = open[open.length - 1]!;
    if (top.next === top.keys.length) {
      open.pop();
      continue;
    }
    const child = top.container[top.keys[top.next++]!];
    const bad = badScalar(child);
    if (bad) return { path: here(), keyword: bad };
    if (!isContainer(child)) continue;
    // The child is at depth open.length (the value itself is at 0).
    if (open.length === MAX_DEPTH) return { path: here(), keyword: 'depth' };
    open.push(frameOf(child));
  }
  return undefined;
}

interface Frame {
  container: Record<string, unknown>;
  keys: string[];
  /** The index of the next key to check. */
  next: number;
}

const isContainer = (value: unknown): value is object => typeof value === 'object' && value !== null;
const frameOf = (container: object): Frame => ({
  container: container as Record<string, unknown>,
  keys: Object.keys(container),
  next: 0,
});

function badScalar(value: unknown): BadValue['keyword'] | undefined {
  if (typeof value === 'string') return BAD_TEXT.test(value) ? 'text' : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'finite';
  return undefined;
}

/** A schema-validation-shaped error, so each API's error handler reports it like any other. */
function badValueError(context: (typeof CLOSED_PARTS)[number], { path, keyword }: BadValue) {
  return Object.assign(new Error(`invalid value at ${context}${path}`), {
    statusCode: 400,
    validationContext: context,
    validation: [{ keyword, instancePath: path, schemaPath: '', params: {}, message: `invalid ${keyword}` }],
  });
}

/**
 * What each API tree installs on its own scope: its error and not-found handlers, and the only
 * body types it reads. JSON (an empty JSON body counts as none, for body-less POSTs sent with the
 * header anyway) and, on the routes that register it, multipart; `text/plain` and anything else
 * is 415.
 */
export function installApiBoundary(scope: FastifyInstance, api: Api): void {
  installErrorHandlers(scope, api);
  // `__proto__` and `constructor.prototype` keys are dropped like any unknown key, so no handler
  // ever holds one (an Object.assign of it would swap an object's prototype).
  const json = scope.getDefaultJsonParser('remove', 'remove');
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body as string, done);
  });
}

export default fp(
  async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      if (route.schema) route.schema = closeRouteSchema(route.schema);
    });
    // After validation: only declared keys are left, with their coerced types.
    app.addHook('preHandler', (request, _reply, done) => {
      for (const context of CLOSED_PARTS) {
        const found = findBadValue(context === 'querystring' ? request.query : request[context]);
        if (found) return done(badValueError(context, found));
      }
      // Ajv checks minProperties before it drops unknown keys: a body of unknown keys only
      // would reach the handler empty, and a PATCH of nothing would answer 200.
      const min = (request.routeOptions.schema?.body as Schema | undefined)?.minProperties;
      const body = request.body as object | undefined;
      if (typeof min === 'number' && body && typeof body === 'object' && Object.keys(body).length < min) {
        return done(badValueError('body', { path: '', keyword: 'minProperties' }));
      }
      done();
    });
  },
  { name: 'boundary' },
);

/** preValidation hook of a route whose body is optional: no body at all is read as `{}`. */
export const optionalBody: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {};
  done();
};
