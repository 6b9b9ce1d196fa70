import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { existingEmails } from '../accounts/users.js';
import { existingAgrements } from '../assistantes-maternelles/queries.js';
import { ENFANT_COLUMNS, readCsv, USER_COLUMNS } from './csv.js';
import { plan, type RowError } from './plan.js';
import { rowsOf, type Unit, writeInBatches } from './write.js';

/**
 * `npm run cli -- ptitspas:import --users users.csv --enfants enfants.csv` (docs/ptitspas.md,
 * example files in docs/ptitspas-import/): families (one or two parents and their children) and
 * childminders from CSV. Every row is checked with the domain's model schemas and rules, and
 * written through the same functions as the API (plan.ts, write.ts); a bad row rejects its whole
 * family (never half a family), reported with its file and line. Accounts are created `actif`
 * without a password and without mail (validating one again sends it its set-password link).
 * Idempotent: a family one of whose e-mails exists, or a childminder whose e-mail or agreement
 * number exists, is left as it is.
 */

export interface ImportSummary {
  families: number;
  parents: number;
  enfants: number;
  childminders: number;
  /** Families and childminders already present (by e-mail or agreement number), left unchanged. */
  alreadyPresent: number;
  errors: RowError[];
}

const emailOf = (row: { fields: Record<string, unknown> }) => String(row.fields.email).trim().toLowerCase();
const agrementOf = (row: { fields: Record<string, unknown> }) =>
  String(row.fields.numero_agrement).trim().toUpperCase();

export async function importPtitsPas(
  db: Kysely<Database>,
  files: { users: string; enfants?: string },
  onProgress: (done: number, total: number) => void = () => {},
): Promise<ImportSummary> {
  const users = await readCsv(files.users, USER_COLUMNS, ['role', 'email', 'prenom', 'nom']);
  const enfants = files.enfants
    ? await readCsv(files.enfants, ENFANT_COLUMNS, ['famille', 'prenom', 'nom', 'genre', 'date_naissance'])
    : [];
  const { families, childminders, errors } = plan(users, enfants);
  const summary: ImportSummary = { families: 0, parents: 0, enfants: 0, childminders: 0, alreadyPresent: 0, errors };

  // Idempotence: what an earlier run (or anyone) already created is left as it is.
  const taken = await existingEmails(db, [...families.flatMap((f) => f.parents), ...childminders].map(emailOf));
  const takenAgrements = await existingAgrements(db, childminders.map(agrementOf));

  const units: Unit[] = [];
  for (const family of families) {
    if (family.parents.some((r) => taken.has(emailOf(r)))) summary.alreadyPresent++;
    else units.push({ kind: 'family', family });
  }
  for (const row of childminders) {
    if (taken.has(emailOf(row)) || takenAgrements.has(agrementOf(row))) summary.alreadyPresent++;
    else units.push({ kind: 'childminder', row });
  }

  const total = units.reduce((n, u) => n + rowsOf(u), 0);
  let done = 0;
  const count = (unit: Unit) => {
    if (unit.kind === 'childminder') summary.childminders++;
    else {
      summary.families++;
      summary.parents += unit.family.parents.length;
      summary.enfants += unit.family.enfants.length;
    }
  };
  onProgress(0, total);
  await writeInBatches(db, units, errors, count, (rows) => {
    done += rows;
    onProgress(done, total);
  });
  return summary;
}
