import { LRUCache } from 'lru-cache';
import pg from 'pg';

/**
 * What a verified token resolves to (the session and its user), kept in process for a short time
 * so a warm authenticated request costs no database round trip. Bounded (least recently used
 * entries go first), short-lived, and emptied or bypassed whenever it could be stale:
 *
 * - every change to a session or user row is announced by a trigger (`pg_notify`), which the
 *   `AuthInvalidations` listener turns into `forget(tag)` calls on every instance, at commit;
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

export interface InvalidationTarget {
  forget(tag: string): void;
  enable(): void;
  disable(): void;
}

/**
 * A dedicated connection LISTENing on `channel`, where triggers announce what changed as a tag
 * (`k:<session id>`, `p:<user id>`). The targets are enabled only while it listens; a lost
 * connection disables them at once and is retried with backoff.
 */
export class AuthInvalidations {
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #ready: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly targets: InvalidationTarget[],
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.#ready = this.#connect(0);
  }

  /** Resolves once the first LISTEN succeeded or failed (the server starts either way). */
  ready(): Promise<void> {
    return this.#ready;
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'medreport-ptitspas-listener' });
    const lost = (err?: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      for (const target of this.targets) target.disable();
      if (err) this.onError(err);
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (!this.#closed) {
        const delay = Math.min(100 * 2 ** attempt, 5_000);
        this.#retry = setTimeout(() => void this.#connect(Math.min(attempt + 1, 6)), delay);
        this.#retry.unref();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', ({ payload }) => {
      if (payload) for (const target of this.targets) target.forget(payload);
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`listen ${client.escapeIdentifier(this.channel)}`);
      if (this.#client !== client) return;
      for (const target of this.targets) target.enable();
      attempt = 0;
    } catch (err) {
      lost(err);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    for (const target of this.targets) target.disable();
    await client?.end().catch(() => {});
  }
}
