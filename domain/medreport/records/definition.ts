import type { TObject, TProperties } from '@sinclair/typebox';
import type { Selectable } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { SyncedEntity } from './mutation.js';
import type { References } from './references.js';

/** The tables of the clinical records. */
export type RecordTable = 'medreport.patients' | 'medreport.prescriptions' | 'medreport.invoices';

/** A column of the record table `T`; over the union, a column of any of them. */
export type RecordColumn<T extends RecordTable = RecordTable> = { [K in T]: keyof Database[K] & string }[T];

/** A stored row of the record table `T`; over the union, a row of any of them. */
export type RecordRow<T extends RecordTable = RecordTable> = { [K in T]: Selectable<Database[K]> }[T];

/**
 * One kind of clinical record (patients, prescriptions, invoices), typed over its table: the
 * functions of records.ts give every record the same conventions: paginated lists
 * `{ data, total, page, limit }`, optional client uuid with idempotent replay, soft deletes, an
 * activity-log row in the same transaction as each change, and a streamed CSV export.
 */
export interface RecordDefinition<
  T extends RecordTable = RecordTable,
  Create extends TObject = TObject,
  Update extends TObject = TObject,
> extends SyncedEntity {
  table: T;
  /** Singular, for actions (`patient.created`) and operation ids. */
  entity: string;
  /** Plural path segment, OpenAPI tag and feed name: `patients`. */
  plural: 'patients' | 'prescriptions' | 'invoices';
  resource: TObject;
  create: Create;
  update: Update;
  /** Columns `search` looks in (case-insensitive substring). */
  searchColumns: readonly RecordColumn<T>[];
  /** Columns `sort` accepts, `-column` for descending; the first is the default, newest first. */
  sortColumns: readonly RecordColumn<T>[];
  /** Equality filters a list accepts besides search, e.g. `patient_uuid`: each is a column. */
  filters?: TProperties;
  /** The record's own columns: with uuid, created_by and timestamps, they make its resource. */
  columns: readonly RecordColumn<T>[];
  /** The columns a client may set, the only keys `prepare` ever sees; the rest are derived. */
  writable: readonly RecordColumn<T>[];
  /**
   * Checks references and derives stored values (Invalid on a bad reference), inside the
   * mutation's transaction. `existing` is set on updates.
   */
  prepare(refs: References, input: Record<string, unknown>, existing?: RecordRow<T>): Promise<Record<string, unknown>>;
  /** Offer `GET /{plural}/export?format=csv` (uuid, the columns, created_at). */
  exportable?: boolean;
}

/**
 * Any record definition, as the generic functions take it. Spelled as a Pick so that TypeScript
 * compares definitions member by member: its shortcut for `RecordDefinition<A>` against
 * `RecordDefinition<B>` measures T as invariant (through RecordRow<T> in `prepare`) and would
 * refuse every definition.
 */
export type AnyRecordDefinition = Pick<RecordDefinition<RecordTable>, keyof RecordDefinition>;
