import { LRUCache } from 'lru-cache';

/**
 * What a verified token resolves to (the session and its user), kept in process for a short time
 * so a warm authenticated request costs no database round trip. Bounded (least recently used
 * entries go first), short-lived, and emptied or bypassed whenever it could be stale:
 *
 * - every change to a session or user row is announced by a trigger (`pg_notify`), which the
 *   listener (db/listener.ts, plugins/medreport/session-cache.ts) turns into `forget(tag)` calls on every instance, at commit;
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
      max,
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
