/**
 * The values of `input` for the listed columns only, skipping those left undefined. Every write
 * built from client input goes through a list like this, typed against db/schema.ts, so a key the
 * list does not name cannot reach SQL whatever the request carried.
 */
export function pick<T extends object, const K extends keyof T>(input: T, columns: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const column of columns) {
    if (input[column] !== undefined) out[column] = input[column];
  }
  return out;
}
