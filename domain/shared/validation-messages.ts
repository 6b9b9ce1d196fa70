import type { FieldErrors } from '../errors.js';

/**
 * The French messages of schema violations, one per field: what PtitsPas and MedReport answer for
 * an invalid request (plugins/errors.ts) and how the CSV import reports a rejected row.
 */

/** One violation as Ajv (and so Fastify's validation) reports it. */
export interface SchemaViolation {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
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
function describe(field: string, e: SchemaViolation): string {
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return `Le champ ${field} est obligatoire.`;
    case 'type':
      return `Le champ ${field} doit être ${TYPE_NAMES[String(p.type).split(',')[0]!] ?? String(p.type)}.`;
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
    case 'minProperties':
      return 'Au moins un champ est attendu.';
    case 'pattern':
      return `Le format du champ ${field} n'est pas valide.`;
    case 'enum':
    case 'const':
      return `La valeur du champ ${field} n'est pas autorisée.`;
    case 'text':
      return `Le champ ${field} contient des caractères non autorisés.`;
    case 'finite':
      return `Le champ ${field} doit être un nombre fini.`;
    case 'depth':
      return `Le champ ${field} est trop imbriqué.`;
    case 'additionalProperties':
      return `Le champ ${String(p.additionalProperty)} n'est pas autorisé.`;
    default:
      return `La valeur du champ ${field} n'est pas valide.`;
  }
}

/**
 * A nullable field (`anyOf: [<its type>, null]`) refused reports each branch: what the value
 * misses to be valid, "must be null", and "must match a schema in anyOf". Only the first says
 * what is wrong: the other two are dropped when it is there.
 */
const isBranchNoise = (e: SchemaViolation) =>
  e.keyword === 'anyOf' || e.keyword === 'oneOf' || (e.keyword === 'type' && e.params.type === 'null');

function withoutBranchNoise(validation: readonly SchemaViolation[]): readonly SchemaViolation[] {
  const explained = new Set(validation.filter((e) => !isBranchNoise(e)).map((e) => e.instancePath));
  return validation.filter((e) => !isBranchNoise(e) || !explained.has(e.instancePath));
}

/** Field errors keyed Laravel-style (`items.0.name`), one message per distinct violation. */
export function fieldErrors(validation: readonly SchemaViolation[], context = 'body'): FieldErrors {
  // A Map: field names come from the client's keys, and `toString` must not find Object.prototype's.
  const errors = new Map<string, string[]>();
  for (const e of withoutBranchNoise(validation)) {
    const segments = e.instancePath.split('/').filter(Boolean);
    if (e.keyword === 'required') segments.push(String(e.params.missingProperty));
    if (e.keyword === 'additionalProperties') segments.push(String(e.params.additionalProperty));
    const field = segments.join('.') || context;
    const message = describe(field, e);
    const list = errors.get(field) ?? [];
    if (!list.includes(message)) errors.set(field, [...list, message]);
  }
  return Object.fromEntries(errors);
}
