import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `attempt` every few milliseconds until `accepts` its result, and returns that result.
 * `limitMs` is a hang guard, not a bound: no test asserts a duration (docs/testing.md).
 */
export async function eventually<T>(
  attempt: () => T | Promise<T>,
  accepts: (value: T) => boolean = Boolean,
  { everyMs = 5, limitMs = 10_000 } = {},
): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = await attempt();
    if (accepts(value)) return value;
    if (performance.now() > deadline) throw new Error(`not reached within ${limitMs} ms`);
    await sleep(everyMs);
  }
}
