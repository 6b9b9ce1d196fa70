import type { FastifyInstance } from 'fastify';
import { DeleteQueryNode, type KyselyPlugin, type QueryId, TableNode, UpdateQueryNode } from 'kysely';
import { LRUCache } from 'lru-cache';
import { ChannelListener } from '../db/listener.js';

/**
 * What a verified token resolves to (its session or login, and its account), kept in process for
 * a short time so a warm authenticated request costs no database round trip. Bounded (least
 * recently used entries go first), short-lived, and emptied or bypassed whenever it could be stale:
 *
 * - every change to a session, login or account row is announced by a trigger (`pg_notify`),
 *   which the listener (db/listener.ts, listenedAuthCache below) turns into `forget(tag)` calls on every
 *   instance, at commit;
 * - while that listener is not connected, the cache is disabled (every lookup misses) and it
 *   starts empty when the listener is back;
 * - a lookup that started before an invalidation may not store its (possibly stale) result.
 */
export class AuthCache<V extends {}> {
  // lru-cache: 0.73-0.79x the time per operation of the Map we had (scripts/bench-libraries.ts lru).
  readonly #entries: LRUCache<string, { value: V; tags: readonly string[] }>;
  readonly #byTag = new Map<string, Set<string>>();
  #generation = 0;
  #enabled = false;

  constructor(
    max = 50_000,
    private readonly ttlMs = 60_000,
  ) {
    this.#entries = new LRUCache({
      // Bounded by a count of entries without `max`, which would preallocate storage for all of
      // them: 2 MB a cache, idle or not (the server has two), for the same time per lookup.
      maxSize: max,
      sizeCalculation: () => 1,
      // Evicted, expired, replaced or forgotten: the entry leaves the tag index with it.
      dispose: (entry, key) => {
        for (const tag of entry.tags) {
          const keys = this.#byTag.get(tag);
          keys?.delete(key);
          if (keys?.size === 0) this.#byTag.delete(tag);
        }
      },
    });
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** A token to pass back to `set`: the result of a lookup started now. */
  get generation(): number {
    return this.#generation;
  }

  get(key: string): V | undefined {
    if (!this.#enabled) return undefined;
    return this.#entries.get(key)?.value;
  }

  /** Stores the result of a lookup started at `generation`, unless something changed since. */
  set(key: string, tags: readonly string[], value: V, generation: number, expiresAt: number): void {
    if (!this.#enabled || generation !== this.#generation) return;
    // Used until the earlier of the TTL and the session's own expiry.
    const ttl = Math.min(this.ttlMs, expiresAt - Date.now());
    if (ttl <= 0) return;
    this.#entries.set(key, { value, tags }, { ttl });
    for (const tag of tags) {
      let keys = this.#byTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.#byTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  /** Drops every entry carrying `tag`. */
  forget(tag: string): void {
    this.#generation++;
    for (const key of [...(this.#byTag.get(tag) ?? [])]) this.#entries.delete(key);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#byTag.clear();
  }

  enable(): void {
    this.clear();
    this.#enabled = true;
  }

  disable(): void {
    this.#enabled = false;
    this.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Empties a cache whenever this process changes one of `tables`: its own next request must see the
 * change, before the trigger's notification comes back.
 */
class ForgetOnWrites implements KyselyPlugin {
  readonly #writes = new WeakSet<QueryId>();
  constructor(
    private readonly cache: { clear(): void },
    private readonly schema: string,
    private readonly tables: readonly string[],
  ) {}

  transformQuery({ node, queryId }: Parameters<KyselyPlugin['transformQuery']>[0]) {
    const table = UpdateQueryNode.is(node) ? node.table : DeleteQueryNode.is(node) ? node.from.froms[0] : undefined;
    if (table && TableNode.is(table) && table.table.schema?.name === this.schema) {
      if (this.tables.includes(table.table.identifier.name)) this.#writes.add(queryId);
    }
    return node;
  }

  async transformResult({ result, queryId }: Parameters<KyselyPlugin['transformResult']>[0]) {
    if (this.#writes.has(queryId)) this.cache.clear();
    return result;
  }
}

/**
 * An AuthCache kept true on every instance: a LISTEN connection on `channel` (where the API's
 * triggers announce `<tag>` for each changed login or account) forgets what each announcement
 * names, the cache is enabled only while that connection listens, and writes to `tables` through
 * `app.systemDb` (the only handle that writes them) empty it in this process at once.
 */
export async function listenedAuthCache<V extends {}>(
  app: FastifyInstance,
  { listenUrl, channel, schema, tables }: { listenUrl: string; channel: string; schema: string; tables: string[] },
): Promise<AuthCache<V>> {
  const cache = new AuthCache<V>();
  const invalidations = new ChannelListener(
    listenUrl,
    [channel],
    { message: (_channel, tag) => cache.forget(tag), up: () => cache.enable(), down: () => cache.disable() },
    (err) => app.log.warn({ err, channel }, 'auth cache off until the notification connection is back'),
  );
  await invalidations.ready();
  app.addHook('onClose', () => invalidations.close());
  app.systemDb = app.systemDb.withPlugin(new ForgetOnWrites(cache, schema, tables));
  return cache;
}
