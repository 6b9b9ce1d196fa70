import type { SyncEntity } from '../../../db/schema.js';
import type { FieldErrors } from '../../errors.js';
import type { AnyRecordDefinition } from '../records/definition.js';

/** What a sync push answers (push.ts), and the checks it is given. */

export interface ItemResult {
  uuid: string;
  status: 'ok' | 'conflict';
  updated_at: string | null;
  /** On a conflict: the server's current resource (null when it was deleted). */
  data?: Record<string, unknown> | null;
}

export interface ItemError {
  entity: SyncEntity;
  uuid: string | null;
  code: 'invalid' | 'organization_mismatch' | 'unsupported' | 'failed';
  message: string;
  errors?: FieldErrors;
}

export type PushBody = Partial<Record<SyncEntity, Array<Record<string, unknown>>>>;

export interface PushOutcome {
  results: Record<SyncEntity, ItemResult[]>;
  errors: ItemError[];
}

/**
 * The schema checks of pushed items (the routes compile them from the HTTP layer's closed
 * schemas): the field errors of an item, or undefined when it is valid.
 */
export interface ItemValidator {
  /** uuid, updated_at, deleted. */
  head(item: Record<string, unknown>): FieldErrors | undefined;
  /** A new record: the definition's create schema. */
  create(def: AnyRecordDefinition, item: Record<string, unknown>): FieldErrors | undefined;
  /** A change: the definition's update schema, every field optional. */
  update(def: AnyRecordDefinition, fields: Record<string, unknown>): FieldErrors | undefined;
}
