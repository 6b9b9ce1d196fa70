import { STATUS_CODES } from 'node:http';

/**
 * The finishing pass over the generated OpenAPI document, so it is the contract client
 * generators need (docs/clients.md), for every route without each one repeating it:
 *
 * - every status an operation can answer is declared, errors in its own API's shape: 500 always;
 *   the validation status (422 MedReport, 400 PtitsPas) everywhere (any query string is checked);
 *   400 where it takes input; 400, 413
 *   and 415 on every method that may carry a body (POST, PUT, PATCH, DELETE); 404 where its path has parameters; 401, 403 and 429 where it is
 *   protected (PtitsPas limits every route, so 429 there always); 503 everywhere but /health
 *   (load shedding);
 * - every request body and response schema is a named component (`<OperationId>Body`,
 *   `<OperationId>Response`, `<OperationId>Response<status>`), so generated clients get named
 *   types rather than anonymous ones;
 * - error responses, and responses the route gave no description, are described by their HTTP
 *   reason phrase;
 * - a parameter or body field with a default is optional for the client (the server fills it in),
 *   though TypeBox lists it as required.
 */

/** A JSON schema as far as this pass reads it; every other keyword passes through untouched. */
export interface OpenApiSchema {
  $ref?: string;
  default?: unknown;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  [keyword: string]: unknown;
}

interface OpenApiMedia {
  schema?: OpenApiSchema;
  [key: string]: unknown;
}

interface OpenApiResponse {
  description?: string;
  content?: Record<string, OpenApiMedia>;
  [key: string]: unknown;
}

interface OpenApiParameter {
  required?: boolean;
  schema?: OpenApiSchema;
  [key: string]: unknown;
}

export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, OpenApiMedia>; [key: string]: unknown };
  responses?: Record<string, OpenApiResponse>;
  security?: Array<Record<string, string[]>>;
  [key: string]: unknown;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The operations of a path (and whatever else a path item may carry). */
type OpenApiPathItem = { [M in (typeof METHODS)[number]]?: OpenApiOperation } & { [key: string]: unknown };

/** The OpenAPI document as far as this pass and its readers (scripts/openapi.ts, tests) read it. */
export interface OpenApiDocument {
  openapi?: string;
  paths: Record<string, OpenApiPathItem>;
  components: {
    schemas?: Record<string, OpenApiSchema>;
    securitySchemes?: Record<string, unknown>;
    [key: string]: unknown;
  };
  tags?: Array<{ name: string; description?: string }>;
  [key: string]: unknown;
}

const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);
const isRef = (schema: OpenApiSchema | undefined) => typeof schema?.$ref === 'string';

/** Methods whose requests Fastify reads a body of, whether or not the operation takes one. */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

function expectedStatuses(path: string, method: string, operation: OpenApiOperation): number[] {
  const ptitspas = /^\/api\/v1(\/|$)/.test(path);
  const hasInput = operation.requestBody !== undefined || (operation.parameters?.length ?? 0) > 0;
  const isProtected = (operation.security?.length ?? 0) > 0;
  // Every query string is inspected (plugins/boundary.ts), parameters or not: a NUL byte in any
  // of them is refused with the validation status.
  const statuses = [500, ptitspas ? 400 : 422];
  if (hasInput) statuses.push(400);
  // A body is parsed even where the operation takes none: malformed (400), too large (413), of a
  // type no parser reads (415).
  if (operation.requestBody !== undefined || BODY_METHODS.has(method)) statuses.push(400, 413, 415);
  if (/\{\w+\}/.test(path)) statuses.push(404);
  if (isProtected) statuses.push(401, 403, 429);
  if (ptitspas) statuses.push(429);
  // Load shedding (plugins/load-shedding.ts) refuses any request but the liveness probe's.
  if (path !== '/health') statuses.push(503);
  return [...new Set(statuses)];
}

/** Moves an inline schema into components under `name` (or a free variant of it); returns its $ref. */
function hoist(components: Record<string, OpenApiSchema>, name: string, schema: OpenApiSchema): OpenApiSchema {
  let unique = name;
  for (let i = 2; components[unique] !== undefined; i++) unique = `${name}${i}`;
  components[unique] = schema;
  return { $ref: `#/components/schemas/${unique}` };
}

/**
 * `schema` with every part equal to a shared component (a resource the routes registered by
 * `$id`) replaced by a reference to it, so clients get one named type instead of a copy per operation.
 */
function referShared(schema: OpenApiSchema, shared: Map<string, string>): OpenApiSchema {
  const name = shared.get(JSON.stringify(schema));
  if (name) return { $ref: `#/components/schemas/${name}` };
  const refer = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(refer);
    if (value && typeof value === 'object') return referShared(value as OpenApiSchema, shared);
    return value;
  };
  return Object.fromEntries(
    Object.entries(schema).map(([keyword, value]) => [
      keyword,
      keyword === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([key, property]) => [key, refer(property)]))
        : ['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties'].includes(keyword)
          ? refer(value)
          : value,
    ]),
  );
}

export function completeContract(document: OpenApiDocument): OpenApiDocument {
  document.components.schemas ??= {};
  const components = document.components.schemas;
  const shared = new Map(Object.entries(components).map(([name, schema]) => [JSON.stringify(schema), name]));
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const ptitspas = /^\/api\/v1(\/|$)/.test(path);
    const error = { $ref: `#/components/schemas/${ptitspas ? 'PtitsPasError' : 'MedReportError'}` };
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const name = pascal(String(operation.operationId ?? `${method}${path.replace(/\W+/g, '_')}`));
      // Public operations say so (an empty requirement), rather than leaving it unsaid.
      operation.security ??= [];
      operation.responses ??= {};
      const responses = operation.responses;
      for (const status of expectedStatuses(path, method, operation)) {
        responses[status] ??= { description: STATUS_CODES[status], content: { 'application/json': { schema: error } } };
      }
      for (const [status, response] of Object.entries(responses)) {
        if (!response.description || response.description === 'Default Response' || Number(status) >= 400) {
          response.description = STATUS_CODES[Number(status)] ?? 'Response';
        }
        for (const media of Object.values(response.content ?? {})) {
          if (media.schema && !isRef(media.schema)) media.schema = referShared(media.schema, shared);
          if (media.schema && !isRef(media.schema)) {
            const suffix = status === '200' || status === '201' ? 'Response' : `Response${status}`;
            media.schema = hoist(components, `${name}${suffix}`, media.schema);
          }
        }
      }
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false;
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        if (!media.schema || isRef(media.schema)) continue;
        const defaulted = new Set(
          Object.entries(media.schema.properties ?? {})
            .filter(([, property]) => property.default !== undefined)
            .map(([key]) => key),
        );
        if (Array.isArray(media.schema.required)) {
          media.schema.required = media.schema.required.filter((key) => !defaulted.has(key));
          if (media.schema.required.length === 0) delete media.schema.required;
        }
        media.schema = hoist(components, `${name}Body`, media.schema);
      }
    }
  }
  return document;
}
