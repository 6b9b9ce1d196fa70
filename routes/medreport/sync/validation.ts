import { Type } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AnyRecordDefinition } from '../../../domain/medreport/records/definition.js';
import type { ItemValidator } from '../../../domain/medreport/sync/push-types.js';
import { closeSchema } from '../../../plugins/boundary.js';
import { type FieldErrors, fieldErrors } from '../../../plugins/errors.js';

/**
 * The checks of pushed items: the same closed schemas as the REST routes' bodies, errors named
 * as the REST routes name them (under `item` when the item itself is at fault).
 */
const ajv = new Ajv({ allErrors: true, coerceTypes: false });
addFormats.default(ajv);
const ItemHead = Type.Object({
  uuid: Type.String({ format: 'uuid' }),
  updated_at: Type.String({ format: 'date-time' }),
  deleted: Type.Optional(Type.Boolean()),
});
const checkHead = ajv.compile(ItemHead);

interface Checks {
  create: ValidateFunction;
  update: ValidateFunction;
}
/** Compiled once per record definition. */
const checks = new WeakMap<AnyRecordDefinition, Checks>();

function checksOf(def: AnyRecordDefinition): Checks {
  let compiled = checks.get(def);
  if (!compiled) {
    compiled = {
      create: ajv.compile(closeSchema(def.create)),
      // An update item may carry no field at all (a newer timestamp only).
      update: ajv.compile(closeSchema(Type.Object(def.update.properties))),
    };
    checks.set(def, compiled);
  }
  return compiled;
}

const errorsOf = (check: ValidateFunction, value: unknown): FieldErrors | undefined =>
  check(value) ? undefined : fieldErrors(check.errors ?? [], 'item');

export const itemValidator: ItemValidator = {
  head: (item) => errorsOf(checkHead, item),
  create: (def, item) => errorsOf(checksOf(def).create, item),
  update: (def, fields) => errorsOf(checksOf(def).update, fields),
};
