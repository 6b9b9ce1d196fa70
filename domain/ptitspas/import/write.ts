import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database } from '../../../db/schema.js';
import { Conflict } from '../../errors.js';
import { insertUsers } from '../accounts/users.js';
import { insertAssistantesMaternelles } from '../assistantes-maternelles/writes.js';
import { insertEnfants } from '../enfants/writes.js';
import { insertParents } from '../parents/co-parents.js';
import type { Childminder, Family, RowError } from './plan.js';

/** What goes in whole or not at all: a family, or a childminder. */
export type Unit = { kind: 'family'; family: Family } | { kind: 'childminder'; row: Childminder };

export const rowsOf = (unit: Unit) =>
  unit.kind === 'childminder' ? 1 : unit.family.parents.length + unit.family.enfants.length;
const firstRow = (unit: Unit) => (unit.kind === 'childminder' ? unit.row : unit.family.parents[0]!);

/**
 * Writes the units through the domain's own write functions (the ones the API's routes use, so
 * their rules apply here too), each given every unit's rows at once: a few set-based statements
 * for the whole batch. Accounts are `actif`, without a password and without mail.
 */
async function writeUnits(trx: Transaction<Database>, units: Unit[]) {
  const families = units.flatMap((u) => (u.kind === 'family' ? [u.family] : []));
  const childminders = units.flatMap((u) => (u.kind === 'childminder' ? [u.row] : []));
  const owned = { statut: 'actif' as const, passwordHash: null };
  const users = await insertUsers(trx, [
    ...families.flatMap((f) =>
      f.parents.map((p) => ({ fields: p.account, owned: { ...owned, role: 'parent' as const } })),
    ),
    ...childminders.map((c) => ({ fields: c.account, owned: { ...owned, role: 'assistante_maternelle' as const } })),
  ]);
  const ids = users.map((u) => u.id);
  let next = 0;
  const parentIds = families.map((f) => f.parents.map(() => ids[next++]!));
  await insertParents(
    trx,
    parentIds.map(([first, second]) => (second ? ([first!, second] as const) : ([first!] as const))),
  );
  await insertAssistantesMaternelles(
    trx,
    childminders.map((c) => ({ userId: ids[next++]!, fields: c.profile })),
  );
  await insertEnfants(
    trx,
    families.flatMap((f, i) => f.enfants.map((e) => ({ fields: e.enfant, parentIds: parentIds[i]! }))),
  );
}

/** At most this many rows per transaction (well under PostgreSQL's 65,535 parameters a statement). */
const BATCH_ROWS = 1000;

/** Someone else wrote one of these e-mails or agreement numbers meanwhile. */
const isTaken = (err: unknown) => err instanceof Conflict || isUniqueViolation(err);

/**
 * Writes the units in batches of about BATCH_ROWS rows, one transaction each; `written` is told of
 * each unit that went in. A batch that meets an e-mail or agreement number written meanwhile is
 * written again unit by unit, so only the unit that conflicts is left out, whole (in `errors`).
 */
export async function writeInBatches(
  db: Kysely<Database>,
  units: Unit[],
  errors: RowError[],
  written: (unit: Unit) => void,
  onRows: (rows: number) => void,
) {
  for (let start = 0; start < units.length; ) {
    const batch: Unit[] = [];
    let size = 0;
    while (start < units.length && (batch.length === 0 || size + rowsOf(units[start]!) <= BATCH_ROWS)) {
      size += rowsOf(units[start]!);
      batch.push(units[start++]!);
    }
    try {
      await db.transaction().execute((trx) => writeUnits(trx, batch));
      batch.forEach(written);
    } catch (err) {
      if (!isTaken(err)) throw err;
      for (const unit of batch) {
        try {
          await db.transaction().execute((trx) => writeUnits(trx, [unit]));
          written(unit);
        } catch (err) {
          if (!isTaken(err)) throw err;
          const row = firstRow(unit);
          errors.push({
            file: row.file,
            line: row.line,
            message: 'Non importé : une de ses adresses e-mail ou son numéro d’agrément a été enregistré entre-temps.',
          });
        }
      }
    }
    onRows(size);
  }
}
