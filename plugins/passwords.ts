import argon2 from 'argon2';
import fp from 'fastify-plugin';
import { HttpError } from './errors.js';

export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for an account without one, in about the same time. */
  verify(hash: string | null | undefined, password: string): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    passwords: Passwords;
  }
}

/**
 * At most `concurrency` tasks at a time, the others waiting in order; past `maxWaiting` waiting,
 * the next is refused (503) rather than queued behind seconds of work.
 */
export function limiter(concurrency: number, maxWaiting: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active++;
    else if (waiting.length >= maxWaiting) throw busy();
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const busy = () =>
  new HttpError(503, 'Le serveur est très sollicité, réessayez dans quelques secondes.', {
    headers: { 'retry-after': '5' },
  });

/**
 * argon2id with the given cost (OWASP: 19 MiB, 2 passes, 1 lane). argon2 runs on libuv's thread
 * pool, off the event loop; a login storm would still take every core from it, so hashing is
 * limited to `concurrency` at a time.
 */
export function passwords(cost: PasswordCost, concurrency: number): Passwords {
  const run = limiter(concurrency, 100 * concurrency);
  const hash = (password: string) => run(() => argon2.hash(password, { type: argon2.argon2id, ...cost }));
  // Checked against when there is no hash, so "no such account" takes as long as "wrong password".
  let decoy: Promise<string> | undefined;
  return {
    hash,
    async verify(stored, password) {
      const target = stored ?? (await (decoy ??= hash('decoy-password-never-matches')));
      try {
        return (await run(() => argon2.verify(target, password))) && Boolean(stored);
      } catch (err) {
        if (err instanceof HttpError) throw err;
        return false;
      }
    },
  };
}

export default fp<{ cost: PasswordCost; concurrency: number }>(
  async (app, { cost, concurrency }) => {
    app.decorate('passwords', passwords(cost, concurrency));
  },
  { name: 'passwords' },
);
