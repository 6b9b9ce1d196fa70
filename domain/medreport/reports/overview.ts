import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { RecordTable } from '../records/definition.js';

export interface Overview {
  patients: { count: number; recent: Array<{ uuid: string; name: string; created_at: string }> };
  prescriptions: { count: number };
  invoices: { count: number };
}

/** Counts of the organization's live records and its 5 most recent patients. */
export async function overview(db: Kysely<Database>): Promise<Overview> {
  const live = (table: RecordTable) =>
    db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
  const [patients, prescriptions, invoices, recent] = await Promise.all([
    live('medreport.patients'),
    live('medreport.prescriptions'),
    live('medreport.invoices'),
    db
      .selectFrom('medreport.patients')
      .select(['uuid', 'name', 'created_at'])
      .where('deleted_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('uuid', 'desc')
      .limit(5)
      .execute(),
  ]);
  return {
    patients: {
      count: patients.count,
      recent: recent.map((p) => ({ uuid: p.uuid, name: p.name, created_at: p.created_at.toISOString() })),
    },
    prescriptions: { count: prescriptions.count },
    invoices: { count: invoices.count },
  };
}
