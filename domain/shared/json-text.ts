/**
 * A value already serialized as JSON: a jsonb column read as text, written into a response as it
 * is (`stringify`). A list of PtitsPas dossiers spent a fifth of its CPU parsing their jsonb
 * into objects only to serialize them again (docs/benchmarks.md). PostgreSQL's jsonb output is
 * always valid JSON, so nothing else needs checking.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * JSON.stringify's output, with each JsonText written as its text. Written by appending to one
 * string, which V8 keeps as a rope until it is written out: joining each object's and array's
 * members made a flat copy of the whole answer at every level (a dossiers page allocated 160 KB
 * to answer 28, docs/benchmarks.md).
 */
export function stringify(value: unknown): string | undefined {
  if (value instanceof JsonText) return value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += stringify(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(value);
  }
  let out = '{';
  for (const key of Object.keys(value)) {
    const text = stringify((value as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    if (out.length > 1) out += ',';
    out += JSON.stringify(key);
    out += ':';
    out += text;
  }
  return `${out}}`;
}
