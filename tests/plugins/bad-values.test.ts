import { describe, expect, it } from 'vitest';
import { findBadValue } from '../../plugins/boundary.js';

/** `depth` objects inside each other around `leaf`: `{ a: { a: ... leaf } }`. */
const nested = (depth: number, leaf: unknown): unknown =>
  Array.from({ length: depth }).reduce<unknown>((inner) => ({ a: inner }), leaf);

describe('findBadValue (every request part, after validation)', () => {
  it('finds nothing in clean values, scalars and empty containers included', () => {
    for (const value of [undefined, null, 0, 'texte é 😀', true, {}, [], { a: [1, 'b', { c: null }] }]) {
      expect(findBadValue(value)).toBeUndefined();
    }
  });

  it('names the path of the first bad value, in document order', () => {
    const body = { patients: [{ name: 'ok' }, { name: 'ok', notes: ['a', 'b\u0000'] }, { name: '\uD800' }] };
    expect(findBadValue(body)).toEqual({ path: '/patients/1/notes/1', keyword: 'text' });
    expect(findBadValue({ a: 1, b: { c: Number.POSITIVE_INFINITY } })).toEqual({ path: '/b/c', keyword: 'finite' });
    expect(findBadValue({ low: '\uDC00' })).toEqual({ path: '/low', keyword: 'text' });
    expect(findBadValue('\u0000', '/filename')).toEqual({ path: '/filename', keyword: 'text' });
  });

  it('accepts a pair of surrogates, and a number that is finite however large', () => {
    expect(findBadValue({ emoji: '\uD83D\uDE00', big: 1e308 })).toBeUndefined();
  });

  it('refuses an object or array at depth 32 (the value itself is at 0), and walks 10,000 levels without overflowing', () => {
    expect(findBadValue(nested(32, 1))).toBeUndefined();
    expect(findBadValue(nested(33, 1))).toEqual({ path: '/a'.repeat(32), keyword: 'depth' });
    expect(findBadValue(nested(10_000, 1))).toEqual({ path: '/a'.repeat(32), keyword: 'depth' });
    const arrays = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(findBadValue(arrays)).toEqual({ path: '/0'.repeat(32), keyword: 'depth' });
  });

  it('walks an array of 100,000 values', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    expect(findBadValue(many)).toBeUndefined();
    many[99_999] = { i: Number.NaN };
    expect(findBadValue(many)).toEqual({ path: '/99999/i', keyword: 'finite' });
  });
});
