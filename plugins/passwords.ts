import argon2 from 'argon2';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';
import { Busy, DomainError, TooMany } from '../domain/errors.js';
import type { Metrics } from './metrics.js';

export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

interface Passwords {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for an account without one, in about the same time. */
  verify(hash: string | null | undefined, password: string): Promise<boolean>;
}

/** Whom a hash is computed for: its place in the queue and its budget depend on it. */
export interface HashCaller {
  address: string;
  /** The account acting or acted on, by e-mail address, when known. */
  account?: string;
}

export interface RequestPasswords {
  /** Hashing on behalf of the request's caller (its budget charged, its place in the queue). */
  for(request: FastifyRequest): Passwords;
  /** Hashing for the process itself (CLI, start-up): no caller to charge. */
  internal: Passwords;
}

declare module 'fastify' {
  interface FastifyInstance {
    passwords: RequestPasswords;
  }
}

export interface QueueBounds {
  concurrency: number;
  /** Waiting tasks in all; past it, 503. */
  maxWaiting: number;
  /** Tasks (running or waiting) of one account, and of one address; past either, 429. */
  perAccount: number;
  perAddress: number;
}

/** What the metrics see of the queue (plugins/metrics.ts). */
export interface QueueObserver {
  /** Called once with a reader of the hashes running and waiting. */
  depth?(read: () => { running: number; waiting: number }): void;
  /** Seconds a hash waited for its slot. */
  waited?(seconds: number): void;
}

const INTERNAL: HashCaller = { address: 'internal' };
/** Callers remembered for the order of service; the longest unserved are forgotten first. */
const REMEMBERED_CALLERS = 10_000;

// Not p-limit: FIFO, unbounded, with no caller to serve in turn. Its 6 µs a task against our 13
// (scripts/bench-libraries.ts limit, 100 callers waiting) is nothing beside a 20 ms hash.
/**
 * At most `concurrency` tasks at a time. A freed slot goes to the waiting address served least
 * recently, not to the oldest task: an address with a queue of its own waits behind every other
 * address's first task, so one caller's flood cannot delay the others by more than the task
 * already running. Each account and address holds a few places at most (429 past them), so no
 * caller fills the queue either; past `maxWaiting` in all, 503.
 */
export function fairQueue(
  { concurrency, maxWaiting, perAccount, perAddress }: QueueBounds,
  observe: QueueObserver = {},
) {
  let active = 0;
  let waitingCount = 0;
  let tick = 0;
  const waiting = new Map<string, Array<() => void>>();
  // lru-cache rather than a Map trimmed from its front: 0.34 against 2.8 µs per serve at 10,000
  // callers (scripts/bench-libraries.ts lru), a Map's first key being slow to reach after deletes.
  const lastServed = new LRUCache<string, number>({ max: REMEMBERED_CALLERS });
  const held = new Map<string, number>();

  const hold = (key: string, delta: number) => {
    const n = (held.get(key) ?? 0) + delta;
    if (n === 0) held.delete(key);
    else held.set(key, n);
  };
  const served = (key: string) => void lastServed.set(key, ++tick);
  const handOver = () => {
    let next: string | undefined;
    for (const key of waiting.keys()) {
      // peek: reading the order of service must not change it.
      if (next === undefined || (lastServed.peek(key) ?? 0) < (lastServed.peek(next) ?? 0)) next = key;
    }
    if (next === undefined) return void active--;
    const tasks = waiting.get(next)!;
    const wake = tasks.shift()!;
    if (tasks.length === 0) waiting.delete(next);
    waitingCount--;
    served(next);
    wake();
  };

  observe.depth?.(() => ({ running: active, waiting: waitingCount }));
  return async <T>(caller: HashCaller, task: () => Promise<T>): Promise<T> => {
    const keys = [`address:${caller.address}`, ...(caller.account ? [`account:${caller.account}`] : [])];
    const isInternal = caller === INTERNAL;
    if (!isInternal && keys.some((key, i) => (held.get(key) ?? 0) >= (i === 0 ? perAddress : perAccount))) {
      throw new TooMany('Trop de demandes en cours pour ce compte ou cette adresse : réessayez dans un instant.', 2);
    }
    if (active >= concurrency && waitingCount >= maxWaiting) {
      throw new Busy('Le serveur est très sollicité, réessayez dans quelques secondes.', 5);
    }
    // Served in turn by address: e-mails cost nothing to vary, addresses do.
    const key = keys[0]!;
    for (const k of keys) hold(k, 1);
    try {
      if (active < concurrency) {
        active++;
        served(key);
      } else {
        const queued = performance.now();
        await new Promise<void>((resolve) => {
          const tasks = waiting.get(key);
          if (tasks) tasks.push(resolve);
          else waiting.set(key, [resolve]);
          waitingCount++;
        }); // the slot is handed over
        observe.waited?.((performance.now() - queued) / 1000);
      }
      try {
        return await task();
      } finally {
        handOver();
      }
    } finally {
      for (const k of keys) hold(k, -1);
    }
  };
}

/**
 * The caller of a request: its address, and the account it acts as (the authenticated caller of
 * either API) or on (the e-mail a login or registration names), by e-mail so that a login and the
 * same account's later requests share one budget.
 */
function hashCaller(request: FastifyRequest): HashCaller {
  const caller =
    (request as { user?: { email?: unknown } | null }).user ??
    (request as { ptitspasUser?: { email?: unknown } | null }).ptitspasUser ??
    (request.body as { email?: unknown } | undefined);
  const email = caller?.email;
  return { address: request.ip, account: typeof email === 'string' ? email.trim().toLowerCase() : undefined };
}

/**
 * argon2id with the given cost (OWASP: 19 MiB, 2 passes, 1 lane). argon2 runs on libuv's thread
 * pool, off the event loop; a login storm would still take every core from it, so hashing goes
 * through the fair queue. `charge` is called before each hash for a request (the rate budget).
 */
export function passwords(
  cost: PasswordCost,
  bounds: QueueBounds,
  charge: (request: FastifyRequest, caller: HashCaller) => Promise<void> = async () => {},
  observe: QueueObserver = {},
): RequestPasswords {
  const queue = fairQueue(bounds, observe);
  const hash = (caller: HashCaller, password: string) =>
    queue(caller, () => argon2.hash(password, { type: argon2.argon2id, ...cost }));
  // Checked against when there is no hash, so "no such account" takes as long as "wrong password".
  let decoy: Promise<string> | undefined;
  const verify = async (caller: HashCaller, stored: string | null | undefined, password: string) => {
    let target = stored;
    if (!target) {
      decoy ??= hash(INTERNAL, 'decoy-password-never-matches');
      target = await decoy;
    }
    try {
      return (await queue(caller, () => argon2.verify(target, password))) && Boolean(stored);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      return false;
    }
  };
  const forCaller = (caller: HashCaller, before: () => Promise<void>): Passwords => ({
    async hash(password) {
      await before();
      return hash(caller, password);
    },
    async verify(stored, password) {
      await before();
      return verify(caller, stored, password);
    },
  });
  return {
    for(request) {
      const caller = hashCaller(request);
      return forCaller(caller, () => charge(request, caller));
    },
    internal: forCaller(INTERNAL, async () => {}),
  };
}

/** The hash queue's depth and waits, as metrics. */
function queueMetrics(metrics: Metrics): QueueObserver {
  const wait = metrics.histogram(
    'password_hash_wait_seconds',
    'Time a password hash waited for a slot of the fair queue',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  return {
    depth(read) {
      metrics.gauge('password_hash_running', 'Password hashes computing now', () => read().running);
      metrics.gauge('password_hash_waiting', 'Password hashes waiting for a slot', () => read().waiting);
    },
    waited: (seconds) => wait.observe(seconds),
  };
}

/** Every core's queue holds at most 100 waiting hashes; one account 2 places, one address 16. */
export function queueBounds(concurrency: number): QueueBounds {
  return { concurrency, maxWaiting: 100 * concurrency, perAccount: 2, perAddress: 16 };
}

/** Hashes an account may cost a minute, and an address: checked before each hash (RATE_LIMITS). */
const HASH_BUDGET = { perAccount: 10, perAddress: 20, timeWindow: '1 minute' } as const;

export default fp<{ cost: PasswordCost; concurrency: number }>(
  async (app, { cost, concurrency }) => {
    const perAddress = app.budget('password-hash:address', {
      max: HASH_BUDGET.perAddress,
      timeWindow: HASH_BUDGET.timeWindow,
    });
    const perAccount = app.budget('password-hash:account', {
      max: HASH_BUDGET.perAccount,
      timeWindow: HASH_BUDGET.timeWindow,
    });
    app.decorate(
      'passwords',
      passwords(
        cost,
        queueBounds(concurrency),
        async (request, caller) => {
          await perAddress(request, caller.address);
          if (caller.account) await perAccount(request, caller.account);
        },
        queueMetrics(app.metrics),
      ),
    );
  },
  { name: 'passwords', dependencies: ['rate-limit', 'metrics'] },
);
