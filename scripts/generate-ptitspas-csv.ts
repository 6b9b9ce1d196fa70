import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ENFANT_COLUMNS, USER_COLUMNS } from '../domain/ptitspas/import/csv.js';

/**
 * Deterministic PtitsPas test data for `npm run cli -- ptitspas:import`: `families` families of two
 * parents and two children, and `childminders` childminders. 2,000 + 2,000 gives 10,000 rows.
 *
 *   npx tsx scripts/generate-ptitspas-csv.ts DIR [FAMILIES] [CHILDMINDERS]
 */
const PRENOMS = ['Léa', 'Jean', 'Éloïse', 'Hugo', 'Chloé', 'Noé', 'Inès', 'Louis', 'Zoé', 'Adam'];
const NOMS = ['Dupont', 'Martin', 'Bernard', 'Lefèvre', 'Moreau', 'Laurent', 'Garnier', 'Faure', 'Roux', 'Blanc'];
const VILLES = ['Paris', 'Lyon', 'Nantes', 'Lille', 'Rennes'];

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const csvLine = (cells: Array<string | number>) => `${cells.map(csvCell).join(',')}\n`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function ptitspasCsv(families: number, childminders: number, prefix = 'import') {
  let users = csvLine(USER_COLUMNS.slice(0, 12));
  let enfants = csvLine([...ENFANT_COLUMNS]);
  for (let f = 0; f < families; f++) {
    const nom = NOMS[f % NOMS.length]!;
    const famille = `F${pad(f, 6)}`;
    for (const p of [0, 1]) {
      users += csvLine([
        famille,
        'parent',
        `${prefix}.parent.${f}.${p}@ptitspas.test`,
        PRENOMS[(f + p) % PRENOMS.length]!,
        nom,
        `06${pad((f * 2 + p) % 100_000_000, 8)}`,
        `${1 + (f % 99)} rue de la Paix, Paris`,
        ...Array(5).fill(''),
      ]);
    }
    for (const c of [0, 1]) {
      const year = 2019 + ((f + c) % 5);
      enfants += csvLine([
        famille,
        PRENOMS[(f + c + 3) % PRENOMS.length]!,
        nom,
        c === 0 ? 'F' : 'H',
        `${year}-${pad(1 + ((f + c) % 12), 2)}-${pad(1 + (f % 28), 2)}`,
        'actif',
        f % 2 === 0 ? 'true' : 'false',
      ]);
    }
  }
  for (let a = 0; a < childminders; a++) {
    const max = 1 + (a % 4);
    users += csvLine([
      '',
      'assistante_maternelle',
      `${prefix}.am.${a}@ptitspas.test`,
      PRENOMS[a % PRENOMS.length]!,
      NOMS[(a + 5) % NOMS.length]!,
      `07${pad(a % 100_000_000, 8)}`,
      '',
      `${prefix.toUpperCase()}-AM-${pad(a, 6)}`,
      `${2005 + (a % 18)}-06-01`,
      max,
      a % (max + 1),
      VILLES[a % VILLES.length]!,
    ]);
  }
  return { users, enfants, rows: families * 4 + childminders };
}

export async function writePtitsPasCsv(dir: string, families: number, childminders: number, prefix?: string) {
  const { users, enfants, rows } = ptitspasCsv(families, childminders, prefix);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'users.csv'), users);
  await writeFile(path.join(dir, 'enfants.csv'), enfants);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'ptitspas-csv', families = '2000', childminders = '2000'] = process.argv.slice(2);
  const rows = await writePtitsPasCsv(dir, Number(families), Number(childminders));
  console.log(`${rows} rows in ${path.join(dir, 'users.csv')} and ${path.join(dir, 'enfants.csv')}`);
}
