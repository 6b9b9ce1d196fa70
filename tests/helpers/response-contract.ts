import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OpenApiDocument } from '../../plugins/openapi-contract.js';

/**
 * Every answer a test app gives is checked against the committed openapi.json: its status must be
 * documented for the operation, its content type among the documented ones, and a JSON body must
 * match the documented schema. Violations are collected here and fail the test that caused them
 * (tests/setup/each-file.ts), so the document cannot drift from what the server does.
 */
// Read by path: importing scripts/openapi.ts would load the whole app into every test file.
const document = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as OpenApiDocument;
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats' CommonJS default export is typed as a module, not the function it is.
(addFormats as unknown as (a: Ajv) => void)(ajv);
ajv.addFormat('binary', true);
ajv.addSchema(document as object, 'openapi');

const validators = new Map<string, ValidateFunction>();
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

function validator(path: string, method: string, status: string): ValidateFunction {
  const ref = `openapi#/${pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

const violations: string[] = [];

/** The violations seen since the last call, and forgets them. */
export function takeViolations(): string[] {
  return violations.splice(0);
}

const mediaType = (header: unknown) => (typeof header === 'string' ? header.split(';')[0]!.trim().toLowerCase() : '');

/** An `onSend` hook: checks the answer about to leave against the operation's documented responses. */
export async function checkResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const pattern = request.routeOptions.url;
  const method = request.method.toLowerCase();
  if (!pattern || method === 'head' || method === 'options') return payload;
  const path = pattern.replace(/:(\w+)/g, '{$1}');
  const operation = document.paths[path]?.[method as 'get'];
  if (!operation) return payload; // an undocumented route: hidden ones (docs, probes), or a test's own
  const where = `${request.method} ${path} → ${reply.statusCode}`;
  const status = String(reply.statusCode);
  const response = operation.responses?.[status];
  if (!response) {
    violations.push(`${where}: status not documented (${Object.keys(operation.responses ?? {}).join(', ')})`);
    return payload;
  }
  const type = mediaType(reply.getHeader('content-type'));
  const documented = Object.keys(response.content ?? {});
  const empty =
    payload === undefined || payload === null || payload === '' || (Buffer.isBuffer(payload) && !payload.length);
  // Fastify drops the body of a 204 or 304 on the wire (HTTP allows none), whatever was sent.
  if (status === '204' || status === '304') return payload;
  if (documented.length === 0) {
    if (!empty) violations.push(`${where}: a body (${type || 'no content type'}) where none is documented`);
    return payload;
  }
  const range = `${type.split('/')[0]}/*`;
  if (!documented.some((d) => d === type || d === range || d === '*/*')) {
    violations.push(`${where}: content type ${type || 'none'} is not documented (${documented.join(', ')})`);
    return payload;
  }
  if (type !== 'application/json' || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return payload;
  const validate = validator(path, method, status);
  if (!validate(JSON.parse(payload.toString()))) {
    const errors = validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).slice(0, 5);
    violations.push(`${where}: body does not match the documented schema: ${errors.join('; ')}`);
  }
  return payload;
}
