import { describe, expect, it } from 'vitest';
import { JsonText, stringify } from '../domain/shared/json-text.js';

describe('stringify', () => {
  it('writes what JSON.stringify writes', () => {
    const when = new Date('2026-12-07T10:00:00.123Z');
    const values: unknown[] = [
      null,
      undefined,
      0,
      -1.5,
      Number.NaN,
      'é "quoted" \\ \n \u2028',
      true,
      when,
      [],
      {},
      [1, undefined, () => 1, Symbol('s'), null, 'x'],
      { a: 1, b: undefined, c: () => 1, d: [{ e: when, f: null }], 'g"h': { toJSON: () => 'custom' } },
      Object.assign(Object.create({ inherited: 1 }), { own: 2 }),
    ];
    for (const value of values) expect(stringify(value)).toBe(JSON.stringify(value));
  });

  it('writes a JsonText as its text, at any depth', () => {
    const text = '{"b": [1, 2], "a": {"c": null}}';
    const written = stringify([{ id: 'x', parts: new JsonText(text), list: [new JsonText('[]')] }]);
    expect(written).toBe(`[{"id":"x","parts":${text},"list":[[]]}]`);
    expect(JSON.parse(written!)).toEqual([{ id: 'x', parts: { b: [1, 2], a: { c: null } }, list: [[]] }]);
  });
});
