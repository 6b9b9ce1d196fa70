import pg from 'pg';

interface Entry<V> {
  value: V;
  /** What invalidates it: `k:<session id>`, `p:<user id>` (the payloads of the notifications). */
  tags: readonly string[];
  /** The entry is used until the earlier of its TTL and the session's own expiry. */
  until: number;
}

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
export class AuthCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #byTag = new Map<string, Set<string>>();
  #generation = 0;
  #enabled = false;

  constructor(
    private readonly max = 50_000,
    private readonly ttlMs = 60_000,
  ) {}

  get enabled(): boolean {
    return this.#enabled;
  }

  /** A token to pass back to `set`: the result of a lookup started now. */
  get generation(): number {
    return this.#generation;
  }

  get(key: string): V | undefined {
    if (!this.#enabled) return undefined;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.#delete(key, entry);
      return undefined;
    }
    // Least recently used goes first: a hit moves the entry to the end of the map's order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores the result of a lookup started at `generation`, unless something changed since. */
  set(key: string, tags: readonly string[], value: V, generation: number, expiresAt: number): void {
    if (!this.#enabled || generation !== this.#generation) return;
    const until = Math.min(Date.now() + this.ttlMs, expiresAt);
    if (until <= Date.now()) return;
    const old = this.#entries.get(key);
    if (old) this.#delete(key, old);
    if (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#delete(oldest, this.#entries.get(oldest)!);
    }
    this.#entries.set(key, { value, tags, until });
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
    for (const key of this.#byTag.get(tag) ?? []) {
      const entry = this.#entries.get(key);
      if (entry) this.#delete(key, entry);
    }
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

  #delete(key: string, entry: Entry<V>) {
    this.#entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.#byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.#byTag.delete(tag);
    }
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
