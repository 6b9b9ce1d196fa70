import { type Kysely, sql } from 'kysely';

// A sync push asks which of its uuids another organization holds (0007). The function built that
// query with `format` and ran it with EXECUTE, which PostgreSQL parses and plans on every call:
// 0.45–0.60 ms a 100-uuid call against 0.27–0.31 ms for the same query written out per entity,
// whose plans PL/pgSQL keeps per connection (docs/benchmarks.md). Same signature, same answer,
// still the tables' owner's (SECURITY DEFINER, search_path pinned, executable by the app role only).
const ENTITIES = ['patients', 'prescriptions', 'invoices', 'files'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  // One static query per entity, written out in the function's body.
  const branches = ENTITIES.map(
    (entity) => `when '${entity}' then
          return query select distinct t.uuid from medreport.${entity} t
                        where t.uuid = any(ids) and t.organization_id <> organization;`,
  ).join('\n        ');
  await sql`
    create or replace function medreport.uuids_of_other_organizations(entity text, organization bigint, ids uuid[])
    returns setof uuid language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
    begin
      case entity
        ${sql.raw(branches)}
        else
          raise exception 'unknown entity %', entity;
      end case;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function medreport.uuids_of_other_organizations(entity text, organization bigint, ids uuid[])
    returns setof uuid language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
    begin
      if entity not in ('patients', 'prescriptions', 'invoices', 'files') then
        raise exception 'unknown entity %', entity;
      end if;
      return query execute format(
        'select distinct uuid from medreport.%I where uuid = any($1) and organization_id <> $2', entity)
        using ids, organization;
    end $$`.execute(db);
}
