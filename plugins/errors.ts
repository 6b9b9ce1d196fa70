import { STATUS_CODES } from 'node:http';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ObjectTooLarge } from '../adapters/storage/index.js';
import { DomainError, type DomainErrorKind, type FieldErrors } from '../domain/errors.js';
import { fieldErrors } from '../domain/shared/validation-messages.js';

/**
 * An error that only makes sense in HTTP (a body too large, a missing bearer token): routes and
 * plugins throw it. The business rules throw a DomainError (domain/errors.ts) instead.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: { errors?: FieldErrors; error?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export type { FieldErrors };
export { fieldErrors };

export const unauthorized = (message = 'Non authentifié.') => new HttpError(401, message);
export const forbidden = (message = 'Accès refusé.') => new HttpError(403, message);
export const notFound = (message = 'Ressource introuvable.') => new HttpError(404, message);
export const unprocessable = (message: string, errors?: FieldErrors) => new HttpError(422, message, { errors });

/** MedReport (Laravel-style clients read `message`, sometimes `error`). */
export const MedReportError = Type.Object(
  {
    success: Type.Literal(false),
    message: Type.String(),
    error: Type.String(),
    errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  },
  { $id: 'MedReportError', description: 'MedReport error: `errors` lists messages per field on 422' },
);

/** PtitsPas (NestJS-style). */
export const PtitsPasError = Type.Object(
  {
    statusCode: Type.Integer(),
    message: Type.String(),
    error: Type.String(),
  },
  { $id: 'PtitsPasError', description: 'PtitsPas error, as NestJS shapes it' },
);

export type Api = 'medreport' | 'ptitspas';

/** Which API a raw URL belongs to; only for errors raised before routing (bad URL encoding). */
function apiOf(url: string): Api {
  return /^\/api\/v1(?:[/?#]|$)/.test(url) ? 'ptitspas' : 'medreport';
}

/** The status of each domain error; `invalid` is 422 for MedReport (Laravel) and 400 for PtitsPas (NestJS). */
const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  unauthenticated: 401,
  invalid: 422,
  gone: 410,
  unsupported: 415,
  'too-many': 429,
  busy: 503,
};

/** A domain error as this API answers it. */
function fromDomain(api: Api, error: DomainError): HttpError {
  const status = api === 'ptitspas' && error.kind === 'invalid' ? 400 : DOMAIN_STATUS[error.kind];
  const headers = 'retryAfter' in error ? { 'retry-after': String(error.retryAfter) } : undefined;
  return new HttpError(status, error.message, { errors: error.fields, headers });
}

/** Response schemas for the given error statuses, to spread into a route's `response`. */
export function errorResponses(api: Api, ...statuses: number[]): Record<number, TSchema> {
  const ref = Type.Ref(api === 'ptitspas' ? PtitsPasError : MedReportError);
  return Object.fromEntries(statuses.map((s) => [s, ref]));
}

function errorBody(api: Api, status: number, message: string, details: HttpError['details'] = {}) {
  if (api === 'ptitspas') return { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' };
  return {
    success: false as const,
    message,
    error: details.error ?? message,
    ...(details.errors ? { errors: details.errors } : {}),
  };
}

/** What a client is told for errors raised by Fastify and its plugins: never their own text, which may echo input. */
const CODE_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "Le corps de la requête n'est pas un JSON valide.",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Le corps de la requête n'est pas un JSON valide.",
  FST_ERR_CTP_BODY_TOO_LARGE: 'Le corps de la requête est trop volumineux.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'La longueur du corps de la requête est invalide.',
  FST_ERR_BAD_URL: "L'URL contient un encodage invalide.",
  FST_REQ_FILE_TOO_LARGE: 'Le fichier dépasse la taille maximale autorisée.',
  FST_FILES_LIMIT: 'Trop de fichiers dans la requête.',
  FST_FIELDS_LIMIT: 'Trop de champs dans la requête.',
  FST_PARTS_LIMIT: 'Trop de parties dans la requête.',
  FST_PROTO_VIOLATION: "Le corps de la requête n'est pas valide.",
  FST_INVALID_MULTIPART_CONTENT_TYPE: "La requête n'est pas au format multipart/form-data.",
};

const STATUS_MESSAGES: Record<number, string> = {
  400: 'Requête invalide.',
  401: 'Non authentifié.',
  403: 'Accès refusé.',
  404: 'Ressource introuvable.',
  405: 'Méthode non autorisée.',
  406: 'Format de réponse non disponible.',
  408: 'Délai de requête dépassé.',
  409: 'Conflit.',
  413: 'Le corps de la requête est trop volumineux.',
  415: "Ce type de contenu n'est pas pris en charge.",
  422: 'Données invalides.',
  429: 'Trop de requêtes.',
};

const MALFORMED_MULTIPART = /unexpected end of multipart data|Multipart: Boundary not found|Boundary required/i;

/** A path to show in a message: never an oversized one, which would echo the client's input back. */
function shownPath(url: string): string | undefined {
  const path = url.split('?')[0]!;
  return path.length <= 200 ? path : undefined;
}

/** The same in both APIs, in French like the rest of their messages. */
function notFoundMessage(method: string, url: string): string {
  const path = shownPath(url);
  return path ? `Route ${method} ${path} introuvable.` : 'Route introuvable.';
}

function send(api: Api, reply: FastifyReply, status: number, message: string, details?: HttpError['details']) {
  return reply.code(status).send(errorBody(api, status, message, details));
}

/**
 * A refusal costs the server about what an answer costs to send: a client flooding a route whose
 * refusals came back at once would take a core in refusals alone, from everyone else. So a 429 is
 * held `delayMs` before it leaves, while few are held (per address, and in all); past those
 * bounds it leaves at once. A flooding connection then waits like any other client.
 */
export class RefusalPacer {
  readonly #held = new Map<string, number>();
  #total = 0;

  constructor(
    private readonly delayMs: number,
    private readonly perAddress = 32,
    private readonly total = 1_000,
  ) {}

  async hold(address: string): Promise<void> {
    const held = this.#held.get(address) ?? 0;
    if (this.delayMs <= 0 || held >= this.perAddress || this.#total >= this.total) return;
    this.#held.set(address, held + 1);
    this.#total++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    } finally {
      this.#total--;
      const left = this.#held.get(address)! - 1;
      if (left === 0) this.#held.delete(address);
      else this.#held.set(address, left);
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    refusalPacer: RefusalPacer;
  }
}

/** The error handler of one API tree: every error its routes raise answers in that API's shape. */
function errorHandler(api: Api) {
  return async (
    thrown: FastifyError | HttpError | DomainError | ObjectTooLarge,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const error = thrown instanceof DomainError ? fromDomain(api, thrown) : thrown;
    if ('validation' in error && error.validation) {
      const errors = fieldErrors(error.validation, error.validationContext);
      const messages = Object.values(errors).flat();
      if (api === 'ptitspas') return send(api, reply, 400, messages.join(' '));
      const extra = messages.length > 1 ? ` (et ${messages.length - 1} autre(s) erreur(s))` : '';
      return send(api, reply, 422, `${messages[0] ?? 'Données invalides.'}${extra}`, { errors });
    }

    if (error instanceof ObjectTooLarge) {
      return send(api, reply, 413, 'Le fichier dépasse la taille maximale autorisée.');
    }

    if (error instanceof HttpError) {
      if (error.statusCode === 429) await request.server.refusalPacer.hold(request.ip);
      if (error.details.headers) reply.headers(error.details.headers);
      return send(api, reply, error.statusCode, error.message, error.details);
    }

    // The multipart parser (busboy) reports a truncated or malformed body with a bare Error.
    if (!error.statusCode && MALFORMED_MULTIPART.test(error.message)) {
      request.log.info({ err: error }, 'malformed multipart body');
      return send(api, reply, 400, 'Le corps multipart est incomplet ou mal formé.');
    }

    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // What the route reads: its documented `consumes`, JSON otherwise.
      const accepted = (request.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes ?? [
        'application/json',
      ];
      return send(api, reply, 415, `Ce type de contenu n'est pas pris en charge : envoyez ${accepted.join(' ou ')}.`);
    }

    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = (error.code && CODE_MESSAGES[error.code]) ?? STATUS_MESSAGES[status] ?? 'Requête invalide.';
      request.log.info({ code: error.code, status }, message);
      return send(api, reply, status, message);
    }

    // Whatever LOG_LEVEL hides, this line says which request failed, where and how.
    request.log.error(
      { err: error, method: request.method, route: request.routeOptions.url, statusCode: 500 },
      'unhandled error',
    );
    return send(api, reply, 500, 'Erreur interne du serveur.');
  };
}

/** Installs `api`'s error and not-found handlers on its encapsulated scope (and its children). */
export function installErrorHandlers(scope: FastifyInstance, api: Api): void {
  scope.setErrorHandler(errorHandler(api));
  scope.setNotFoundHandler((request, reply) => send(api, reply, 404, notFoundMessage(request.method, request.url)));
}

/**
 * Errors Fastify raises before a request reaches any route (a malformed percent-encoding, a path
 * parameter over the router's limit): the URL's prefix is all there is to pick the API by.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const api = apiOf(request.url);
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 404 : 400;
  // No hook runs for it, so no 'request completed' line: this is its line.
  request.log.info({ req: request, res: { statusCode: status }, code: error.code }, 'request refused before routing');
  if (status === 404) return send(api, reply, 404, STATUS_MESSAGES[404]!);
  return send(api, reply, 400, (error.code && CODE_MESSAGES[error.code]) ?? STATUS_MESSAGES[400]!);
}
