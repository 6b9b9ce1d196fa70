import { type SchemaOptions, type TSchema, Type } from '@sinclair/typebox';

/**
 * A string from a fixed list, as a JSON Schema `enum` (TypeBox's union of literals becomes
 * `anyOf: [{const}]`, which client generators turn into one class per value).
 */
export const StringEnum = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
