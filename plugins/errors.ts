import { STATUS_CODES } from 'node:http';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import fp from 'fastify-plugin';

/** A domain error: handlers and guards throw it, the error handler turns it into the API's shape. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: { errors?: FieldErrors; error?: string } = {},
  ) {
    super(message);
  }
}

export type FieldErrors = Record<string, string[]>;

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'Non authentifié.') => new HttpError(401, message);
export const forbidden = (message = 'Accès refusé.') => new HttpError(403, message);
export const notFound = (message = 'Ressource introuvable.') => new HttpError(404, message);
export const conflict = (message: string, errors?: FieldErrors) => new HttpError(409, message, { errors });
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

type Api = 'medreport' | 'ptitspas';

export function apiOf(url: string): Api {
  return /^\/api\/v1(?:[/?#]|$)/.test(url) ? 'ptitspas' : 'medreport';
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

const TYPE_NAMES: Record<string, string> = {
  string: 'une chaîne de caractères',
  integer: 'un nombre entier',
  number: 'un nombre',
  boolean: 'un booléen',
  object: 'un objet',
  array: 'une liste',
  null: 'vide',
};

const FORMAT_NAMES: Record<string, string> = {
  email: 'une adresse e-mail valide',
  date: 'une date valide (AAAA-MM-JJ)',
  'date-time': 'une date et heure ISO 8601',
  uuid: 'un UUID valide',
  uri: 'une URL valide',
};

/** One readable message for one schema violation. */
function describe(field: string, e: FastifySchemaValidationError): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `Le champ ${field} est obligatoire.`;
    case 'type':
      return `Le champ ${field} doit être ${TYPE_NAMES[String(p.type)] ?? String(p.type)}.`;
    case 'format':
      return `Le champ ${field} doit être ${FORMAT_NAMES[String(p.format)] ?? `au format ${String(p.format)}`}.`;
    case 'minLength':
      return `Le champ ${field} doit contenir au moins ${String(p.limit)} caractère(s).`;
    case 'maxLength':
      return `Le champ ${field} ne doit pas dépasser ${String(p.limit)} caractères.`;
    case 'minimum':
      return `Le champ ${field} doit être supérieur ou égal à ${String(p.limit)}.`;
    case 'maximum':
      return `Le champ ${field} doit être inférieur ou égal à ${String(p.limit)}.`;
    case 'minItems':
      return `Le champ ${field} doit contenir au moins ${String(p.limit)} élément(s).`;
    case 'maxItems':
      return `Le champ ${field} ne doit pas contenir plus de ${String(p.limit)} éléments.`;
    case 'pattern':
      return `Le format du champ ${field} n'est pas valide.`;
    case 'additionalProperties':
      return `Le champ ${String(p.additionalProperty)} n'est pas autorisé.`;
    default:
      return `La valeur du champ ${field} n'est pas valide.`;
  }
}

/** Field errors keyed Laravel-style (`items.0.name`), one message per distinct violation. */
export function fieldErrors(validation: FastifySchemaValidationError[], context = 'body'): FieldErrors {
  const errors: FieldErrors = {};
  for (const e of validation) {
    const segments = e.instancePath.split('/').filter(Boolean);
    if (e.keyword === 'required') segments.push(String((e.params as { missingProperty: string }).missingProperty));
    if (e.keyword === 'additionalProperties') segments.push(String(e.params.additionalProperty));
    const field = segments.join('.') || context;
    const message = describe(field, e);
    const list = (errors[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return errors;
}

const PARSER_MESSAGES: Record<number, string> = {
  400: "Le corps de la requête n'est pas un JSON valide.",
  413: 'Le corps de la requête est trop volumineux.',
  415: "Ce type de contenu n'est pas pris en charge.",
};

const MALFORMED_MULTIPART = /unexpected end of multipart data|Multipart: Boundary not found|Boundary required/i;

const CODE_MESSAGES: Record<string, string> = {
  FST_REQ_FILE_TOO_LARGE: 'Le fichier dépasse la taille maximale autorisée.',
  FST_FILES_LIMIT: 'Trop de fichiers dans la requête.',
  FST_FIELDS_LIMIT: 'Trop de champs dans la requête.',
  FST_INVALID_MULTIPART_CONTENT_TYPE: "La requête n'est pas au format multipart/form-data.",
};

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
  details?: HttpError['details'],
) {
  return reply.code(status).send(errorBody(apiOf(request.url), status, message, details));
}

/**
 * One error handler and one not-found handler for the whole server; the shape follows the API
 * the URL belongs to (`/api/v1` → PtitsPas, everything else → MedReport).
 */
export default fp(
  async (app) => {
    app.addSchema(MedReportError);
    app.addSchema(PtitsPasError);

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      const message =
        apiOf(request.url) === 'ptitspas'
          ? `Cannot ${request.method} ${path}`
          : `Route ${request.method} ${path} introuvable.`;
      return sendError(request, reply, 404, message);
    });

    app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      const api = apiOf(request.url);

      if ('validation' in error && error.validation) {
        const errors = fieldErrors(error.validation, error.validationContext);
        const messages = Object.values(errors).flat();
        const extra = messages.length > 1 ? ` (et ${messages.length - 1} autre(s) erreur(s))` : '';
        if (api === 'ptitspas') return sendError(request, reply, 400, messages.join(' '));
        return sendError(request, reply, 422, `${messages[0] ?? 'Données invalides.'}${extra}`, { errors });
      }

      if (error instanceof HttpError) return sendError(request, reply, error.statusCode, error.message, error.details);

      // The multipart parser (busboy) reports a truncated or malformed body with a bare Error.
      if (!error.statusCode && MALFORMED_MULTIPART.test(error.message)) {
        request.log.info({ err: error }, 'malformed multipart body');
        return sendError(request, reply, 400, 'Le corps multipart est incomplet ou mal formé.');
      }

      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        // Errors raised by Fastify and its plugins below 500 carry messages meant for clients.
        const message =
          (error.code && CODE_MESSAGES[error.code]) ??
          (error.code?.startsWith('FST_ERR_CTP') ? PARSER_MESSAGES[status] : undefined) ??
          error.message;
        request.log.info({ code: error.code, status }, message);
        return sendError(request, reply, status, message);
      }

      request.log.error({ err: error }, 'unhandled error');
      return sendError(request, reply, 500, 'Erreur interne du serveur.');
    });
  },
  { name: 'errors' },
);
