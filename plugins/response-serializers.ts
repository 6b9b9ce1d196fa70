import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { type Compiled, whenFirstUsed } from './boundary.js';

const serializerFactory = SerializerSelector();
type Serialize = (value: unknown) => string;
const factories = new Map<string, { build: (route: object) => Serialize; compiled: Map<string, Serialize> }>();

/**
 * Fastify's response serializer factory (fast-json-stringify), remembering each compiled
 * serializer for the process, by the schema's text (routes build their error responses afresh),
 * as Ajv does for validators: compiling them is most of what building an app costs. Each is
 * compiled at its first response (whenFirstUsed), from the schema, and the shared schemas it
 * refers to, with their nullable scalars rewritten (nullableScalars): the shared schemas once per
 * set, however many plugin contexts ask for a factory over them.
 */
export function sharedSerializers() {
  return (externalSchemas: unknown, options: unknown) => {
    const key = JSON.stringify([externalSchemas, options]);
    let factory = factories.get(key);
    if (!factory) {
      const build = serializerFactory(nullableScalars(externalSchemas) as never, options as never);
      factory = { build: build as unknown as (route: object) => Serialize, compiled: new Map() };
      factories.set(key, factory);
    }
    const { build, compiled } = factory;
    return (route: { schema: object }) =>
      whenFirstUsed(() => {
        const text = JSON.stringify(route.schema);
        let serialize = compiled.get(text);
        if (!serialize) {
          serialize = build({ ...route, schema: nullableScalars(route.schema) });
          compiled.set(text, serialize);
        }
        return serialize as Compiled;
      });
  };
}

const SCALARS = new Set(['string', 'number', 'integer', 'boolean']);

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `schema` with each nullable scalar (`anyOf: [scalar, null]`, what Nullable builds) written as
 * `type: [scalar, 'null']`, for serializing only. fast-json-stringify picks an `anyOf` branch by
 * validating the value with Ajv, branch after branch, and the failed branch allocates its error
 * objects: 35 KB of garbage and a quarter of what a patients page allocated (docs/benchmarks.md).
 * A type list is picked by `typeof`, and writes the same JSON. Requests are still validated, and
 * the OpenAPI document still shows, the schemas as written.
 */
export function nullableScalars(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableScalars);
  if (!isSchema(schema)) return schema;
  const { anyOf, ...rest } = schema;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const scalar = anyOf.find((branch) => isSchema(branch) && SCALARS.has(branch.type as string));
    const nullBranch = anyOf.find((branch) => isSchema(branch) && branch.type === 'null');
    if (isSchema(scalar) && nullBranch && !('const' in scalar)) {
      // fast-json-stringify still validates with Ajv where a branch is a $ref (a nullable
      // resource): an enum must then admit the null the type list admits.
      const values = Array.isArray(scalar.enum) ? { enum: [...scalar.enum, null] } : {};
      return { ...rest, ...scalar, ...values, type: [scalar.type, 'null'] };
    }
  }
  const rewritten: Schema = {};
  for (const [key, value] of Object.entries(schema)) rewritten[key] = nullableScalars(value);
  return rewritten;
}
