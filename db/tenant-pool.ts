import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from './schema.js';
import { TenantScopePlugin } from './tenant-scope.js';

/**
 * The pool tenant queries run on. Each of its connections carries, as a session setting,
 * `app.organization_id` of the last organization that used it, which row-level security reads.
 * The value is (re)set before any query of another organization; connections of the other pool
 * never carry it, so tenant rows are invisible there (fail closed).
 *
 * Setting it costs a round trip, so we remember per connection what it holds: the auth query sets
 * it in the same statement that checks the session, and the handler's queries, which usually get
 * that same connection back (pg's pool hands out the most recently released one), skip the set.
 */
export class TenantPool {
  readonly #context = new WeakMap<pg.PoolClient, string>();

  constructor(readonly pool: pg.Pool) {}

  /** Runs `task` on a tenant connection; `task` returns the organization its own SQL has set, if any. */
  async run<T>(task: (client: pg.PoolClient) => Promise<{ result: T; organizationSet?: string }>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const { result, organizationSet } = await task(client);
      if (organizationSet !== undefined) this.#context.set(client, organizationSet);
      client.release();
      return result;
    } catch (err) {
      this.#context.delete(client);
      client.release(err as Error);
      throw err;
    }
  }

  /** A Kysely whose queries are confined to the organization, by the plugin and by RLS. */
  forOrganization(organizationId: number): Kysely<Database> {
    return new Kysely<Database>({
      // pg-cursor lets exports stream rows (`.stream()`) instead of loading them all.
      dialect: new PostgresDialect({ pool: this.#poolFor(String(organizationId)), cursor: Cursor }),
      plugins: [new TenantScopePlugin(organizationId)],
    });
  }

  #poolFor(organization: string): PostgresPool {
    return {
      connect: async () => {
        const client = await this.pool.connect();
        if (this.#context.get(client) === organization) return client;
        try {
          // Outside any transaction, so no rollback can undo it.
          await client.query("select set_config('app.organization_id', $1, false)", [organization]);
          this.#context.set(client, organization);
          return client;
        } catch (err) {
          this.#context.delete(client);
          client.release(err as Error);
          throw err;
        }
      },
      end: async () => {},
    };
  }
}
