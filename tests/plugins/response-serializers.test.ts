import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { Nullable, StringEnum } from '../../domain/shared/schemas.js';
import { nullableScalars, sharedSerializers } from '../../plugins/response-serializers.js';

const Row = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  phone: Nullable(Type.String({ maxLength: 30 })),
  gender: Nullable(StringEnum(['F', 'M'])),
  born: Nullable(Type.String({ format: 'date' })),
  seen_at: Nullable(Type.String({ format: 'date-time', description: 'Last seen' })),
  score: Nullable(Type.Number()),
  count: Nullable(Type.Integer()),
  active: Nullable(Type.Boolean()),
  address: Nullable(Type.Object({ city: Nullable(Type.String()) })),
  tags: Type.Array(Nullable(Type.String())),
});
const schema = Type.Array(Row);

const rows = [
  {
    id: 1,
    name: 'Élodie « Lou »',
    phone: '+33 6 12 34 56 78',
    gender: 'F',
    born: '2020-02-29',
    seen_at: '2026-12-07T10:00:00.123Z',
    score: 1.5,
    count: 3,
    active: false,
    address: { city: 'Saint-Étienne' },
    tags: ['a', null],
  },
  {
    id: 2,
    name: 'x',
    phone: null,
    gender: null,
    born: null,
    seen_at: null,
    score: null,
    count: null,
    active: null,
    address: null,
    tags: [],
  },
];

describe('response serializers', () => {
  it('write nullable scalars as a type list, and leave the rest as written', () => {
    const rewritten = nullableScalars(JSON.parse(JSON.stringify(Row))) as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(rewritten.properties.phone).toEqual({ type: ['string', 'null'], maxLength: 30 });
    expect(rewritten.properties.seen_at).toEqual({
      type: ['string', 'null'],
      format: 'date-time',
      description: 'Last seen',
    });
    expect(rewritten.properties.count).toEqual({ type: ['integer', 'null'] });
    expect(rewritten.properties.gender).toEqual({ type: ['string', 'null'], enum: ['F', 'M', null] });
    // A nullable object keeps its anyOf; its own nullable scalars are rewritten.
    expect(rewritten.properties.address?.anyOf).toEqual([
      { type: 'object', properties: { city: { type: ['string', 'null'] } }, required: ['city'] },
      { type: 'null' },
    ]);
    expect(rewritten.properties.tags).toEqual({ type: 'array', items: { type: ['string', 'null'] } });
  });

  it('serialize as JSON.stringify does, and as the schema as written did', () => {
    const serialize = sharedSerializers()({}, {})({ schema }) as (value: unknown) => string;
    const asWritten = SerializerSelector()({} as never, {} as never)({ schema } as never) as (value: unknown) => string;
    expect(serialize(rows)).toBe(JSON.stringify(rows));
    expect(serialize(rows)).toBe(asWritten(rows));
    // The same through a shared schema a route refers to, as the records' routes do.
    const shared = { Row: { ...Row, $id: 'Row' } };
    const byRef = sharedSerializers()(shared, {})({ schema: Type.Array(Type.Ref('Row')) }) as (
      value: unknown,
    ) => string;
    expect(byRef(rows)).toBe(JSON.stringify(rows));
    // Rewritten there too: the branch is picked by type, so a string is written without its
    // format checked again (the schema as written finds no branch for it and throws).
    const odd = [{ ...rows[0], born: 'soon' }];
    expect(byRef(odd)).toBe(JSON.stringify(odd));
    expect(() => asWritten(odd)).toThrow(TypeError);
    // Inside a nullable $ref (a sync change's data), fast-json-stringify validates the resource
    // with Ajv against the rewritten schema: its nulls, enums' included, still pass.
    const Change = Type.Object({ data: Nullable(Type.Ref('Row')) });
    const change = sharedSerializers()(shared, {})({ schema: Type.Array(Change) }) as (value: unknown) => string;
    const changes = [{ data: rows[0] }, { data: rows[1] }, { data: null }];
    expect(change(changes)).toBe(JSON.stringify(changes));
    // A value of no listed type is still refused, as it was.
    expect(() => serialize([{ ...rows[1], count: 'three' }])).toThrow(TypeError);
  });
});
