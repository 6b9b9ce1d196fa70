import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { StatKey } from './model.js';

const DAY_MS = 86_400_000;

interface RecentActivity {
  id: number;
  action: string;
  entity_type: string;
  entity_uuid: string | null;
  entity_name: string | null;
  user_id: number | null;
  user_name: string | null;
  /** Null for the platform's own entries. */
  organization_id: number | null;
  organization_name: string | null;
  created_at: Date;
}

/**
 * The platform at a glance. `db` is the cross-organization handle: records of every organization
 * are counted (docs/admin.md).
 */
export async function dashboard(db: Kysely<Database>) {
  const now = Date.now();
  const since30 = new Date(now - 30 * DAY_MS);
  const since60 = new Date(now - 60 * DAY_MS);
  // Each kind: what is there now, what was added in the last 30 days and in the 30 before.
  const added = sql`count(*) filter (where created_at >= ${since30}),
    count(*) filter (where created_at >= ${since60} and created_at < ${since30})`;
  const kinds: Array<[StatKey, string, string]> = [
    ['users', 'medreport.users', 'deleted_at is null'],
    ['organizations', 'medreport.organizations', 'true'],
    ['patients', 'medreport.patients', 'deleted_at is null'],
    ['prescriptions', 'medreport.prescriptions', 'deleted_at is null'],
    ['invoices', 'medreport.invoices', 'deleted_at is null'],
    ['active_sessions', 'medreport.sessions', 'revoked_at is null and expires_at > now()'],
  ];
  const { rows } = await sql<{ key: StatKey; value: number; last: number; previous: number }>`
    select key, value, last, previous from (${sql.join(
      kinds.map(
        ([key, table, now], order) =>
          sql`select ${order} as ord, ${key} as key, count(*) filter (where ${sql.raw(now)}) as value, ${added}
                from ${sql.table(table)}`,
      ),
      sql` union all `,
    )}) as counted (ord, key, value, last, previous)
    order by ord`.execute(db);
  const labels: Record<StatKey, string> = {
    users: 'Utilisateurs',
    organizations: 'Organisations',
    patients: 'Patients',
    prescriptions: 'Prescriptions',
    invoices: 'Factures',
    active_sessions: 'Sessions actives',
  };
  const stats = rows.map((r) => ({
    key: r.key,
    label: labels[r.key],
    value: Number(r.value),
    last_30_days: Number(r.last),
    previous_30_days: Number(r.previous),
    change: Number(r.previous) === 0 ? null : Math.round(((r.last - r.previous) / r.previous) * 1000) / 10,
  }));

  const trend = await sql<{ date: string; count: number }>`
    select to_char(day, 'YYYY-MM-DD') as date, count(u.id)::int as count
      from generate_series((now() at time zone 'UTC')::date - 29, (now() at time zone 'UTC')::date, interval '1 day') as day
      left join medreport.users u on (u.created_at at time zone 'UTC')::date = day::date
     group by day order by day`.execute(db);

  // The 10 latest entries of the organizations' log and of the platform's own (migration 0023),
  // each side read in its (created_at, id) index order.
  const { rows: recent } = await sql<RecentActivity>`
    select * from (
      (select a.id, a.action, a.entity_type, a.entity_uuid, a.entity_name, a.user_id, a.user_name,
              a.organization_id, o.name as organization_name, a.created_at
         from medreport.activity_log a
         left join medreport.organizations o on o.id = a.organization_id
        order by a.created_at desc, a.id desc limit 10)
      union all
      (select id, action, entity_type, entity_uuid, entity_name, user_id, user_name,
              null, null, created_at
         from medreport.platform_activity_log
        order by created_at desc, id desc limit 10)
    ) e
    order by created_at desc, id desc limit 10`.execute(db);

  return {
    stats,
    charts: { userTrend: trend.rows },
    recentActivities: recent.map((r) => ({ ...r, created_at: r.created_at.toISOString() })),
  };
}
