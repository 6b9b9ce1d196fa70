/**
 * Names for prepared statements, by SQL text: PostgreSQL parses and plans a named statement once
 * per connection instead of on every execution. Kysely builds the same SQL for the same query
 * shape (values travel as parameters), so the set stays small; it is bounded all the same (an
 * `in (...)` list of a new length is a new text), and past the bound statements run unnamed.
 */
const MAX_NAMED = 2_000;
const names = new Map<string, string>();

export function statementName(sql: string): string | undefined {
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `k${names.size.toString(36)}`;
    names.set(sql, name);
  }
  return name;
}
