/**
 * A value already serialized as JSON: a jsonb column read as text, written into a response as it
 * is (`stringify`). A list of PtitsPas dossiers spent a fifth of its CPU parsing their jsonb
 * into objects only to serialize them again (docs/benchmarks.md). PostgreSQL's jsonb output is
 * always valid JSON, so nothing else needs checking.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** JSON.stringify's output, with each JsonText written as its text. */
export function stringify(value: unknown): string | undefined {
  if (value instanceof JsonText) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => stringify(item) ?? 'null').join(',')}]`;
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(value);
  }
  const members: string[] = [];
  for (const key of Object.keys(value)) {
    const text = stringify((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}
