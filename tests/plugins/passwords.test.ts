import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../plugins/errors.js';
import { limiter, passwords } from '../../plugins/passwords.js';

describe('the argon2 limiter', () => {
  it('runs at most `concurrency` tasks at once, the others in arrival order', async () => {
    const run = limiter(2, 10);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await sleep(5);
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses with 503 and Retry-After past the waiting bound, and recovers', async () => {
    const run = limiter(1, 2);
    const slow = () => run(() => sleep(20));
    const first = [slow(), slow(), slow()];
    const refused = await slow().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ statusCode: 503, details: { headers: { 'retry-after': '5' } } });
    await Promise.all(first);
    await expect(slow()).resolves.toBeUndefined();
  });

  it('still hashes and verifies', async () => {
    const p = passwords({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, 1);
    const hash = await p.hash('secret phrase');
    expect(await p.verify(hash, 'secret phrase')).toBe(true);
    expect(await p.verify(hash, 'wrong')).toBe(false);
    expect(await p.verify(null, 'anything')).toBe(false);
  });
});
