/**
 * `npx tsx scripts/bench-libraries.ts`: our hand-written helpers against the well-kept library for
 * the same operation, in the same process, interleaved rounds (ours, library, ours, ...), medians.
 * Issue 22: keep whichever is as fast or faster and keeps the behaviour.
 *
 * - uuid v7: db/uuid.ts against `uuid`'s v7, ×1e6;
 * - LRU: db/auth-cache.ts (50,000 entries, TTL, tags) against the same class on `lru-cache`, and
 *   plugins/passwords.ts's memory of served callers (10,000) against an LRUCache;
 * - concurrency: plugins/passwords.ts's fair queue against `p-limit`, overhead per task;
 * - @fastify/under-pressure: the cost of its onRequest hook on a trivial route;
 * - close-with-grace: behaviour (the double Ctrl-C of `npm start`), in a child process.
 *
 * BENCH_ROUNDS (default 5) rounds each. Prints one line per measure; nothing is written.
 */
import { spawnSync } from 'node:child_process';
import underPressure from '@fastify/under-pressure';
import Fastify from 'fastify';
import { LRUCache } from 'lru-cache';
import pLimit from 'p-limit';
import { v7 } from 'uuid';
import { uuidv7 as ourUuidv7 } from '../db/uuid.js';
import { AuthCache } from '../plugins/auth-cache.js';
import { fairQueue } from '../plugins/passwords.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
/** Runs each candidate once per round, in turn, after a warm-up; prints medians in ms and per op. */
async function compare(title: string, ops: number, candidates: Record<string, () => unknown>) {
  const times: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(candidates)) {
    await fn(); // warm-up
    times[name] = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(candidates)) times[name]!.push(await time(fn));
  }
  const base = median(Object.values(times)[0]!);
  for (const [name, ts] of Object.entries(times)) {
    const m = median(ts);
    console.log(
      `${title.padEnd(28)} ${name.padEnd(34)} ${m.toFixed(1).padStart(8)} ms  ${((m * 1e6) / ops).toFixed(0).padStart(6)} ns/op  x${(m / base).toFixed(2)}`,
    );
  }
}

// ---------------------------------------------------------------- uuid v7
async function benchUuid() {
  const N = 1_000_000;
  let sink = '';
  await compare('uuid v7 ×1e6', N, {
    'ours (db/uuid.ts)': () => {
      for (let i = 0; i < N; i++) sink = ourUuidv7();
    },
    'uuid v7()': () => {
      for (let i = 0; i < N; i++) sink = v7();
    },
  });
  const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const sorted = (gen: () => string) => {
    const ids = Array.from({ length: 100_000 }, gen);
    return { valid: ids.every((id) => FORMAT.test(id)), inOrder: ids.every((id, i) => i === 0 || ids[i - 1]! < id) };
  };
  console.log(
    `uuid v7 checks: ours ${JSON.stringify(sorted(() => ourUuidv7()))}, uuid ${JSON.stringify(sorted(() => v7()))} (${sink.length})`,
  );
}

// ---------------------------------------------------------------- LRU
interface Entry<V> {
  value: V;
  /** What invalidates it: `k:<session id>`, `p:<user id>` (the payloads of the notifications). */
  tags: readonly string[];
  /** The entry is used until the earlier of its TTL and the session's own expiry. */
  until: number;
}

/** The Map-based cache plugins/auth-cache.ts had before lru-cache (the baseline). */
class MapAuthCache<V> {
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

async function benchLru() {
  // Auth cache: 60,000 sessions over a 50,000-entry cache, 90 % reads, 1 % invalidations.
  const N = 1_000_000;
  const SESSIONS = 60_000;
  const keys = Array.from({ length: SESSIONS }, (_, i) => `tok${i.toString(36).padStart(40, 'x')}`);
  const ops = Array.from({ length: N }, () => Math.floor(Math.random() * SESSIONS));
  const value = { user: { id: 1 }, session: { id: 2 } };
  const run = (cache: AuthCache<typeof value> | MapAuthCache<typeof value>) => () => {
    cache.enable();
    const far = Date.now() + 3_600_000;
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const k = ops[i]!;
      const key = keys[k]!;
      if (i % 100 === 0) cache.forget(`k:${k}`);
      else if (cache.get(key)) hits++;
      else cache.set(key, [`k:${k}`, `p:${k % 5_000}`], value, cache.generation, far);
    }
    return hits;
  };
  await compare('auth cache 1e6 ops (50k)', N, {
    'before (a Map)': run(new MapAuthCache(50_000, 60_000)),
    'now (plugins/auth-cache.ts, lru-cache 11)': run(new AuthCache(50_000, 60_000)),
  });

  // The fair queue's memory of served callers: touch on serve, peek on hand-over, 10,000 kept.
  const addresses = Array.from({ length: 20_000 }, (_, i) => `address:10.0.${i >> 8}.${i & 255}`);
  const picks = Array.from({ length: N }, () => Math.floor(Math.random() * addresses.length));
  await compare('served callers 1e6 (10k)', N, {
    'ours (plugins/passwords.ts, Map)': () => {
      const lastServed = new Map<string, number>();
      let tick = 0;
      let sum = 0;
      for (let i = 0; i < N; i++) {
        const key = addresses[picks[i]!]!;
        sum += lastServed.get(key) ?? 0;
        lastServed.delete(key);
        lastServed.set(key, ++tick);
        if (lastServed.size > 10_000) lastServed.delete(lastServed.keys().next().value!);
      }
      return sum;
    },
    'lru-cache 11 (peek + set)': () => {
      const lastServed = new LRUCache<string, number>({ max: 10_000 });
      let tick = 0;
      let sum = 0;
      for (let i = 0; i < N; i++) {
        const key = addresses[picks[i]!]!;
        sum += lastServed.peek(key) ?? 0;
        lastServed.set(key, ++tick);
      }
      return sum;
    },
  });
}

// ---------------------------------------------------------------- concurrency limit
async function benchLimit() {
  const N = 200_000;
  const task = async () => 1;
  const bounds = { concurrency: 4, maxWaiting: Number.MAX_SAFE_INTEGER, perAccount: 1e9, perAddress: 1e9 };
  const callers = Array.from({ length: 100 }, (_, i) => ({ address: `10.0.0.${i}` }));
  await compare('limit 2e5 tasks (4 at once)', N, {
    'bare Promise.all (no limit)': () => Promise.all(Array.from({ length: N }, () => task())),
    'ours (fairQueue, 100 callers)': () => {
      const queue = fairQueue(bounds);
      return Promise.all(Array.from({ length: N }, (_, i) => queue(callers[i % 100]!, task)));
    },
    'p-limit 7 (FIFO)': () => {
      const limit = pLimit(4);
      return Promise.all(Array.from({ length: N }, () => limit(task)));
    },
  });
}

// ---------------------------------------------------------------- @fastify/under-pressure
async function benchUnderPressure() {
  const N = 20_000;
  const build = async (withPlugin: boolean) => {
    const app = Fastify({ logger: false });
    if (withPlugin) {
      await app.register(underPressure, { maxEventLoopDelay: 1_000, maxHeapUsedBytes: 4e9, maxRssBytes: 8e9 });
    }
    app.get('/x', async () => ({ ok: true }));
    await app.ready();
    return app;
  };
  const bare = await build(false);
  const guarded = await build(true);
  const run = (app: Awaited<ReturnType<typeof build>>) => async () => {
    for (let i = 0; i < N; i++) await app.inject({ method: 'GET', url: '/x' });
  };
  await compare('fastify inject ×2e4', N, {
    'no load shedding': run(bare),
    '@fastify/under-pressure 9': run(guarded),
  });
  await bare.close();
  await guarded.close();
}

// ---------------------------------------------------------------- close-with-grace
/** One Ctrl-C under `npm start` arrives twice ~30 ms apart: does the drain survive it? */
function checkCloseWithGrace() {
  const child = `
    const closeWithGrace = require('close-with-grace');
    closeWithGrace({ delay: 5000, logger: { error: (m) => console.log('log:', String(m)) } }, async ({ signal }) => {
      console.log('draining after', signal);
      await new Promise((r) => setTimeout(r, 1000));
      console.log('drained');
    });
    setInterval(() => {}, 1000);
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 100);
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 130);
  `;
  const out = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 10_000 });
  console.log(
    `close-with-grace, SIGINT twice 30 ms apart: exit ${out.status}, output ${JSON.stringify(out.stdout.trim().split('\n'))}`,
  );
}

const only = process.argv.slice(2);
const all = { uuid: benchUuid, lru: benchLru, limit: benchLimit, pressure: benchUnderPressure };
console.log(`node ${process.version}, ${ROUNDS} rounds, medians`);
for (const [name, bench] of Object.entries(all)) if (only.length === 0 || only.includes(name)) await bench();
if (only.length === 0 || only.includes('grace')) checkCloseWithGrace();
