import pg from 'pg';

/**
 * Queries that carry their row-level security context to PostgreSQL in the same network round trip.
 *
 * Row-level security reads settings such as `app.organization_id` (db/rls.ts). Setting one first
 * as a separate statement would cost a round trip per query, or per connection handed between
 * organizations. Instead each query pipelines, under one cork and before its own Parse/Bind/Execute:
 *
 *   Bind + Execute  select set_config($1, $2, true)
 *
 * Both run in the extended protocol's implicit transaction, which lasts until the query's Sync,
 * so the setting is visible to the query and gone right after it: no connection ever keeps an
 * organization (fail closed), and a failure of the first statement skips the second. Being
 * transaction-local, it also holds behind a transaction pooler (PgBouncer in transaction mode),
 * where consecutive transactions may run on different server connections.
 */
export interface StatementContext {
  /** A custom setting row-level security reads, e.g. `app.organization_id`. */
  readonly setting: string;
  readonly value: string;
  /**
   * Whether the context statement is a named prepared statement (parsed once per connection).
   * Unnamed behind a transaction pooler, which may hand the next transaction another connection.
   */
  readonly named: boolean;
}

const CONTEXT = { name: 'app_context', text: 'select set_config($1, $2, true)' };

/** The part of pg's connection the pipeline uses (pg's own types do not describe it). */
interface ProtocolConnection {
  parsedStatements: Record<string, string>;
  parse(config: { name: string; text: string; types: unknown[] }, more?: boolean): void;
  bind(config: { portal?: string; statement: string; values: unknown[] }, more?: boolean): void;
  execute(config: { portal?: string; rows?: number }, more?: boolean): void;
}

function sendContext(connection: ProtocolConnection, { setting, value, named }: StatementContext) {
  const name = named ? CONTEXT.name : '';
  if (!named || connection.parsedStatements[name] === undefined) {
    connection.parse({ name, text: CONTEXT.text, types: [] });
    // Recorded now: pg attributes ParseComplete messages to the query's own name.
    if (named) connection.parsedStatements[name] = CONTEXT.text;
  }
  connection.bind({ statement: name, values: [setting, value] });
  connection.execute({});
}

/** What pg's Result derives from a RowDescription (pg 8.x internals, pinned in package.json). */
interface ResultShape {
  fields: unknown[];
  _parsers: unknown[] | undefined;
  _prebuiltEmptyResultObject: unknown;
}

/**
 * pg rebuilds a result's field parsers from every RowDescription (5% of a tenant read's CPU). A
 * named statement always describes the same row (PostgreSQL refuses a prepared statement whose
 * result type changed), so its shape is derived once per process and reused.
 */
const shapes = new Map<string, ResultShape>();

interface QueryInternals {
  name?: string;
  _result: ResultShape;
  handleRowDescription(message: { fields: unknown[] }): void;
  requiresPreparation(): boolean;
  prepare(connection: ProtocolConnection): void;
  hasBeenParsed(connection: ProtocolConnection): boolean;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: ProtocolConnection): void;
  handleError(error: Error, connection: ProtocolConnection): void;
}

// pg's Query internals (row description, prepare) are not in its type definitions.
const BaseQuery = pg.Query as unknown as new (text: string, values: unknown[], callback: unknown) => QueryInternals;

/** A pg query preceded, in the same round trip, by its context. */
export class ContextQuery extends BaseQuery {
  #contextPending = true;
  #parsedHere = false;

  constructor(
    private readonly context: StatementContext,
    {
      name,
      text,
      values,
      callback,
    }: {
      name?: string;
      text: string;
      values: unknown[];
      callback: (err: Error | null, result: pg.QueryResult) => void;
    },
  ) {
    // Built from the text: pg copies a config object through its property descriptors (3 µs a
    // query, the largest item of a tenant read's own CPU); the name is the only other field set.
    super(text, values, callback);
    this.name = name;
  }

  // Always the extended protocol, which carries the context: pg would send an unnamed query
  // without parameters as a simple Query message, alone.
  override requiresPreparation(): boolean {
    return true;
  }

  override prepare(connection: ProtocolConnection): void {
    sendContext(connection, this.context);
    this.#parsedHere = !this.hasBeenParsed(connection);
    super.prepare(connection);
  }

  override handleRowDescription(message: { fields: unknown[] }): void {
    const shape = this.name ? shapes.get(this.name) : undefined;
    if (shape && shape.fields.length === message.fields.length) {
      super.handleRowDescription({ fields: [] }); // pg's bookkeeping, without the per-field work
      Object.assign(this._result, shape);
      return;
    }
    super.handleRowDescription(message);
    if (this.name && shapes.size < 2_000) {
      const { fields, _parsers, _prebuiltEmptyResultObject } = this._result;
      shapes.set(this.name, { fields, _parsers, _prebuiltEmptyResultObject });
    }
  }

  // The context's one row and completion come first: they are not the query's.
  override handleDataRow(message: unknown): void {
    if (!this.#contextPending) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown, connection: ProtocolConnection): void {
    if (this.#contextPending) this.#contextPending = false;
    else super.handleCommandComplete(message, connection);
  }

  override handleError(error: Error, connection: ProtocolConnection): void {
    // pg marked the statement parsed when the context's ParseComplete arrived; a statement
    // that then failed to parse must be parsed again next time.
    if (this.#parsedHere && this.name) delete connection.parsedStatements[this.name];
    super.handleError(error, connection);
  }
}
