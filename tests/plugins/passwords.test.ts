import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Busy } from '../../domain/errors.js';
import { fairQueue, passwords, queueBounds } from '../../plugins/passwords.js';

const bounds = { concurrency: 1, maxWaiting: 100, perAccount: 100, perAddress: 100 };
const from = (address: string, account?: string) => ({ address, account });

describe('the argon2 queue', () => {
  it('runs at most `concurrency` tasks at once, one caller’s in arrival order', async () => {
    const run = fairQueue({ ...bounds, concurrency: 2 });
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        run(from('10.0.0.1'), async () => {
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

  it('hands a free slot to the caller served least recently, not to the oldest task', async () => {
    const run = fairQueue(bounds);
    const order: string[] = [];
    // The first flood task holds the one slot until the newcomers are queued: no timing involved.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const task = (name: string) => async () => {
      order.push(name);
      if (name === 'flood-0') await held;
    };
    const flood = Array.from({ length: 5 }, (_, i) => run(from('10.0.0.1', 'flooder'), task(`flood-${i}`)));
    while (!order.includes('flood-0')) await sleep(1);
    const others = ['a', 'b', 'c'].map((name) => run(from(`10.0.1.${name.charCodeAt(0)}`), task(name)));
    release();
    await Promise.all([...flood, ...others]);
    // One flood task was running; every newcomer goes before the rest of the flood.
    expect(order).toEqual(['flood-0', 'a', 'b', 'c', 'flood-1', 'flood-2', 'flood-3', 'flood-4']);
  });

  it('alternates between two busy callers instead of draining one first', async () => {
    const run = fairQueue(bounds);
    const order: string[] = [];
    const task = (name: string) => async () => {
      order.push(name);
      await sleep(2);
    };
    await Promise.all([
      ...[0, 1, 2].map((i) => run(from('10.0.0.1', 'x'), task(`x${i}`))),
      ...[0, 1, 2].map((i) => run(from('10.0.0.2', 'y'), task(`y${i}`))),
    ]);
    expect(order).toEqual(['x0', 'y0', 'x1', 'y1', 'x2', 'y2']);
  });

  it('gives one account and one address a few places only (429), and everyone 503 past the total', async () => {
    const run = fairQueue({ concurrency: 1, maxWaiting: 3, perAccount: 2, perAddress: 3 });
    const slow = (address: string, account?: string) => run(from(address, account), () => sleep(20));
    const held = [slow('10.0.0.1', 'a'), slow('10.0.0.1', 'a')];
    await expect(slow('10.0.0.9', 'a')).rejects.toMatchObject({ kind: 'too-many' });
    held.push(slow('10.0.0.1', 'b'));
    await expect(slow('10.0.0.1', 'c')).rejects.toMatchObject({ kind: 'too-many' });
    held.push(slow('10.0.0.2'));
    const refused = await slow('10.0.0.3').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Busy);
    expect(refused).toMatchObject({ kind: 'busy', retryAfter: 5 });
    await Promise.all(held);
    await expect(slow('10.0.0.1', 'a')).resolves.toBeUndefined();
  });

  it('still hashes and verifies', async () => {
    const p = passwords({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, queueBounds(1)).internal;
    const hash = await p.hash('secret phrase');
    expect(await p.verify(hash, 'secret phrase')).toBe(true);
    expect(await p.verify(hash, 'wrong')).toBe(false);
    expect(await p.verify(null, 'anything')).toBe(false);
  });
});
