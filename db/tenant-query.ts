import pg from 'pg';
import Cursor from 'pg-cursor';
import { TENANT_SETTING } from './rls.js';

/**
 * Queries that carry their organization to PostgreSQL in the same network round trip.
 *
 * Row-level security reads `app.organization_id` (db/rls.ts). Setting it first as a separate
 * statement would cost a round trip per query, or per connection handed between organizations.
 * Instead each query pipelines, under one cork and before its own Parse/Bind/Execute:
 *
 *   Bind + Execute  select set_config('app.organization_id', $1, true)
 *
 * Both run in the extended protocol's implicit transaction, which lasts until the query's Sync,
 * so the setting is visible to the query and gone right after it: no connection ever keeps an
 * organization (fail closed), and a failure of the first statement skips the second.
 */
const CONTEXT = { name: 'app_tenant_context', text: `select set_config('${TENANT_SETTING}', $1, true)` };

/** The part of pg's connection the pipeline uses (pg's own types do not describe it). */
interface ProtocolConnection {
  stream: { cork?(): void; uncork?(): void };
  parsedStatements: Record<string, string>;
  parse(config: { name: string; text: string; types: unknown[] }, more?: boolean): void;
  bind(config: { portal?: string; statement: string; values: unknown[] }, more?: boolean): void;
  execute(config: { portal?: string; rows?: number }, more?: boolean): void;
}

function sendContext(connection: ProtocolConnection, organization: string) {
  if (connection.parsedStatements[CONTEXT.name] === undefined) {
    connection.parse({ ...CONTEXT, types: [] });
    // Recorded now: pg attributes ParseComplete messages to the query's own name.
    connection.parsedStatements[CONTEXT.name] = CONTEXT.text;
  }
  connection.bind({ statement: CONTEXT.name, values: [organization] });
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
  prepare(connection: ProtocolConnection): void;
  hasBeenParsed(connection: ProtocolConnection): boolean;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: ProtocolConnection): void;
  handleError(error: Error, connection: ProtocolConnection): void;
}

// pg's Query internals (row description, prepare) are not in its type definitions.
const BaseQuery = pg.Query as unknown as new (config: pg.QueryConfig & { callback?: unknown }) => QueryInternals;

/** A pg query preceded, in the same round trip, by its organization's context. */
export class TenantQuery extends BaseQuery {
  #contextPending = true;
  #parsedHere = false;

  constructor(
    private readonly organization: string,
    config: pg.QueryConfig & { callback: (err: Error | null, result: pg.QueryResult) => void },
  ) {
    super(config);
  }

  override prepare(connection: ProtocolConnection): void {
    sendContext(connection, this.organization);
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

interface CursorInternals {
  submit(connection: ProtocolConnection): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown): void;
}

// pg-cursor's internals are not in its type definitions either.
const BaseCursor = Cursor as unknown as new (text: string, values: unknown[]) => CursorInternals;

/** A pg-cursor (streamed rows) whose implicit transaction starts with its organization's context. */
export class TenantCursor extends BaseCursor {
  #contextPending = true;

  constructor(
    private readonly organization: string,
    text: string,
    values: unknown[],
  ) {
    super(text, values);
  }

  override submit(connection: ProtocolConnection): void {
    // One write for the context and the cursor's own messages, as pg does for its queries.
    connection.stream.cork?.();
    try {
      sendContext(connection, this.organization);
      super.submit(connection);
    } finally {
      connection.stream.uncork?.();
    }
  }

  override handleDataRow(message: unknown): void {
    if (!this.#contextPending) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown): void {
    if (this.#contextPending) this.#contextPending = false;
    else super.handleCommandComplete(message);
  }
}
