import type { Kysely } from 'kysely';
import type pg from 'pg';
import { contextHandle } from './context-handle.js';
import { copyOut } from './copy-out.js';
import { TENANT_SETTING } from './rls.js';
import type { Database } from './schema.js';
import { TenantScopePlugin } from './tenant-scope.js';

/**
 * The pool tenant queries run on, and one query builder per organization over it. Each handle is
 * confined to its organization twice: the TenantScopePlugin adds `organization_id = $org` to every
 * query it builds, and every statement it sends carries the organization's row-level security
 * context in the same round trip (db/context-query.ts). Handles are built once per organization
 * (the most recently used 1,000 are kept), never per request.
 */
export class TenantPool {
  readonly #handles = new Map<number, Kysely<Database>>();

  /** `namedStatements`: false behind a transaction pooler (db/connection.ts, StatementMode). */
  constructor(
    readonly pool: pg.Pool,
    private readonly namedStatements: boolean,
    private readonly maxHandles = 1_000,
  ) {}

  forOrganization(organizationId: number): Kysely<Database> {
    let handle = this.#handles.get(organizationId);
    if (handle) {
      this.#handles.delete(organizationId);
    } else {
      handle = contextHandle(
        this.pool,
        { setting: TENANT_SETTING, value: String(organizationId), named: this.namedStatements },
        [new TenantScopePlugin(organizationId)],
      );
      if (this.#handles.size >= this.maxHandles) this.#handles.delete(this.#handles.keys().next().value!);
    }
    this.#handles.set(organizationId, handle);
    return handle;
  }

  /** The bytes of `statement` (a COPY ... TO STDOUT, db/copy-out.ts) under the organization's context. */
  copyOut(organizationId: number, statement: string): AsyncGenerator<Buffer> {
    return copyOut(this.pool, { setting: TENANT_SETTING, value: String(organizationId) }, statement);
  }
}
