import { describe, expect, it } from 'vitest';
import { AuthCache } from '../../plugins/auth-cache.js';

const later = () => Date.now() + 60_000;

describe('AuthCache (the sessions and logins each instance keeps)', () => {
  it('holds at most `max` entries: the least recently used goes first, and leaves its tags', () => {
    const cache = new AuthCache<{ id: number }>(3);
    cache.enable();
    for (const id of [1, 2, 3]) cache.set(`k${id}`, [`p:${id}`], { id }, cache.generation, later());
    expect(cache.get('k1')).toEqual({ id: 1 }); // k2 is now the least recently used
    cache.set('k4', ['p:4'], { id: 4 }, cache.generation, later());
    expect(cache.size).toBe(3);
    expect(['k1', 'k2', 'k3', 'k4'].map((key) => cache.get(key)?.id)).toEqual([1, undefined, 3, 4]);
    // The evicted entry's tag index went with it: forgetting its tag touches nothing else.
    cache.forget('p:2');
    expect(cache.size).toBe(3);
    cache.forget('p:3');
    expect(['k1', 'k3', 'k4'].map((key) => cache.get(key)?.id)).toEqual([1, undefined, 4]);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const cache = new AuthCache<{ id: number }>(1_000);
    cache.enable();
    for (let id = 0; id < 20_000; id++) cache.set(`k${id}`, [`p:${id}`], { id }, cache.generation, later());
    expect(cache.size).toBe(1_000);
    expect(cache.get('k19999')).toEqual({ id: 19_999 });
    expect(cache.get('k0')).toBeUndefined();
  });

  it('keeps nothing while disabled, nor a lookup that started before an invalidation', () => {
    const cache = new AuthCache<{ id: number }>(10);
    cache.set('k1', ['p:1'], { id: 1 }, cache.generation, later());
    expect(cache.get('k1')).toBeUndefined();
    cache.enable();
    const started = cache.generation;
    cache.forget('p:1');
    cache.set('k1', ['p:1'], { id: 1 }, started, later());
    expect(cache.get('k1')).toBeUndefined();
    cache.set('k1', ['p:1'], { id: 1 }, cache.generation, later());
    expect(cache.get('k1')).toEqual({ id: 1 });
  });
});
