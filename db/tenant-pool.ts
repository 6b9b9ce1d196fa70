import {
  Kysely,
  type PostgresCursor,
  type PostgresCursorConstructor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';
import { statementName } from './statements.js';
import { TenantCursor, TenantQuery } from './tenant-query.js';
import { TenantScopePlugin } from './tenant-scope.js';

// Transaction control carries no context: it would be lost at BEGIN, and would fail (and skip
// the ROLLBACK) in an aborted transaction. The statements inside a transaction carry it.
const TRANSACTION_CONTROL = /^\s*(?:begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b/i;

/**
 * The pool tenant queries run on, and one query builder per organization over it. Each handle is
 * confined to its organization twice: the TenantScopePlugin adds `organization_id = $org` to every
 * query it builds, and every statement it sends carries the organization's row-level security
 * context in the same round trip (db/tenant-query.ts). Handles are built once per organization
 * (the most recently used 1,000 are kept), never per request.
 */
export class TenantPool {
  readonly #handles = new Map<number, Kysely<Database>>();

  constructor(
    readonly pool: pg.Pool,
    private readonly maxHandles = 1_000,
  ) {}

  forOrganization(organizationId: number): Kysely<Database> {
    let handle = this.#handles.get(organizationId);
    if (handle) {
      this.#handles.delete(organizationId);
    } else {
      handle = this.#create(organizationId);
      if (this.#handles.size >= this.maxHandles) this.#handles.delete(this.#handles.keys().next().value!);
    }
    this.#handles.set(organizationId, handle);
    return handle;
  }

  #create(organizationId: number): Kysely<Database> {
    const organization = String(organizationId);
    const pool = this.pool;
    const facade: PostgresPool = {
      async connect() {
        return tenantClient(await pool.connect(), organization);
      },
      // The pool is the application's: handles never end it.
      end: async () => {},
    };
    class OrganizationCursor extends TenantCursor {
      constructor(text: string, values: unknown[]) {
        super(organization, text, values);
      }
    }
    return new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: facade,
        // Kysely's cursor constructor type takes pg-cursor's signature; ours fixes the organization first.
        cursor: OrganizationCursor as unknown as PostgresCursorConstructor,
      }),
      plugins: [new TenantScopePlugin(organizationId)],
    });
  }
}

/** A pooled connection whose text queries run as TenantQuery for `organization`. */
function tenantClient(client: pg.PoolClient, organization: string): PostgresPoolClient {
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query(textOrCursor: unknown, values?: readonly unknown[]): unknown {
    // A cursor goes to pg as is: pg's overloads cannot be named from here.
    if (typeof textOrCursor !== 'string') return client.query(textOrCursor as never);
    if (TRANSACTION_CONTROL.test(textOrCursor)) return client.query(textOrCursor);
    return new Promise<pg.QueryResult>((resolve, reject) => {
      client.query(
        new TenantQuery(organization, {
          name: statementName(textOrCursor),
          text: textOrCursor,
          values: [...(values ?? [])],
          callback: (err, result) => (err ? reject(err) : resolve(result)),
        }) as never,
      );
    });
  }
  return { query, release: () => client.release() };
}
