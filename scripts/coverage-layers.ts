/** Prints the line coverage of each layer from the json-summary `vitest run --coverage` wrote. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

type Totals = { lines: { total: number; covered: number } };
const summary = JSON.parse(await readFile('coverage/coverage-summary.json', 'utf8')) as Record<string, Totals>;

const layers = new Map<string, { total: number; covered: number }>();
for (const [file, { lines }] of Object.entries(summary)) {
  if (file === 'total') continue;
  const layer = path.relative(process.cwd(), file).split(path.sep)[0]!;
  const sum = layers.get(layer) ?? { total: 0, covered: 0 };
  sum.total += lines.total;
  sum.covered += lines.covered;
  layers.set(layer, sum);
}
const percent = ({ total, covered }: { total: number; covered: number }) =>
  total === 0 ? '100.00' : ((100 * covered) / total).toFixed(2);
console.log('Line coverage by layer:');
for (const [layer, sum] of [...layers].sort())
  console.log(`  ${layer.padEnd(8)} ${percent(sum).padStart(6)}%  (${sum.covered}/${sum.total} lines)`);
console.log(`  ${'all'.padEnd(8)} ${percent(summary.total!.lines).padStart(6)}%`);
