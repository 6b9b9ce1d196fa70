import { type Kysely, sql } from 'kysely';

// A horizon now also keeps when its last pruned change was made (`changed_at`), so that an ISO
// `since` answers 410 only when a change at or after it was pruned, instead of whenever it is
// older than the retention (docs/sync.md, "Retention"). Mobile sync libraries start from
// 1970-01-01: under the fixed rule every such first sync was a 410, pruned or not.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table medreport.sync_horizons add column changed_at timestamptz`.execute(db);
  // Horizons written before: the time of the last pruned change is lost. The first change kept
  // (else the prune itself) came after it: an upper bound, which can only answer 410 more often.
  await sql`
    update medreport.sync_horizons h
       set changed_at = coalesce(
             (select min(c.changed_at) from medreport.changes c where c.organization_id = h.organization_id),
             h.pruned_at)`.execute(db);
  await sql`alter table medreport.sync_horizons alter column changed_at set not null`.execute(db);
  await replacePruneFunction(db, { withTime: true });
}

export async function down(db: Kysely<any>): Promise<void> {
  await replacePruneFunction(db, { withTime: false });
  await sql`alter table medreport.sync_horizons drop column changed_at`.execute(db);
}

/**
 * `prune_sync_changes(before)`: drops changes older than `before` in every organization and
 * records each one's horizon, with the time of its last pruned change (or without, as 0007 made it).
 */
async function replacePruneFunction(db: Kysely<any>, { withTime }: { withTime: boolean }): Promise<void> {
  const columns = withTime ? sql`seq, changed_at` : sql`seq`;
  const values = withTime ? sql`max(seq), max(changed_at)` : sql`max(seq)`;
  const time = withTime ? sql`changed_at = greatest(medreport.sync_horizons.changed_at, excluded.changed_at),` : sql``;
  // Replaced in place: the function keeps its owner and its grants (executable by the app role only).
  await sql`
    create or replace function medreport.prune_sync_changes(before timestamptz)
    returns bigint language sql security definer set search_path = pg_catalog, pg_temp as $$
      with gone as (
        delete from medreport.changes where changed_at < before returning organization_id, seq, changed_at
      ), horizons as (
        insert into medreport.sync_horizons (organization_id, ${columns})
        select organization_id, ${values} from gone group by organization_id
        on conflict (organization_id) do update
          set seq = greatest(medreport.sync_horizons.seq, excluded.seq), ${time} pruned_at = now()
        returning 1
      )
      select count(*) from gone
    $$`.execute(db);
}
