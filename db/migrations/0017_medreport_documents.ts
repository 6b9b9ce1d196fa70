import { type Kysely, sql } from 'kysely';
import { allowCrossOrganizationRead, enableTenantRls } from '../rls.js';

// MedReport documents (docs/documents.md): prescriptions and invoices as PDFs that anyone holding
// one can check at GET /api/verify/{code}.
//
// - Each prescription and invoice gets a verification code, server-owned, for life: 20 characters
//   of Crockford's base 32 (100 random bits), the format of domain/shared/documents/verification-code.ts.
//   A column default makes it, so every way a row is inserted (REST, sync push, scripts) gets one.
//   Adding a column with a volatile default rewrites the table and evaluates the default per
//   existing row: that is the backfill.
// - The last issued PDF of each record (its SHA-256, size and time) is kept beside the records in
//   a table of its own: issuing a PDF writes neither the record (no updated_at, no sync entry, no
//   activity-log entry) nor anything a client syncs.
// - The verification is cross-tenant by nature (the code is the only key): one SECURITY DEFINER
//   function reads what the answer shows and nothing else.
const RECORDS = ['prescriptions', 'invoices'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  // Each character is the low 5 bits of a byte from gen_random_uuid(), which reads the system's
  // CSPRNG (pg_strong_random); random() is not one. Bytes 6 and 8 of a version 4 UUID carry its
  // version and variant bits: they are skipped, so the 20 bytes used (14 of the first UUID, 6 of
  // the second) are uniformly random and each character uniform over the 32 symbols.
  await sql`
    create function medreport.new_verification_code() returns text
    language sql volatile parallel safe set search_path = pg_catalog, pg_temp as $$
      select string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (get_byte(r.bytes, i) & 31) + 1, 1), '' order by i)
        from (select uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) as bytes) r,
             unnest(array[0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]) as i
    $$`.execute(db);

  for (const table of RECORDS) {
    await sql`
      alter table ${sql.table(`medreport.${table}`)}
        add column verification_code text not null default medreport.new_verification_code()
          constraint ${sql.id(`${table}_verification_code_key`)} unique
          constraint ${sql.id(`${table}_verification_code_check`)} check (verification_code ~ '^[0-9A-HJKMNP-TV-Z]{20}$')`.execute(
      db,
    );
    // The feed's entries are the resource as it was at each commit; the code belongs to every
    // version of the record, so the entries written before it existed get it too (a pull serializes
    // the resource's declared fields, and it is now one of them).
    await sql`
      update medreport.changes c
         set data = c.data || jsonb_build_object('verification_code', r.verification_code)
        from ${sql.table(`medreport.${table}`)} r
       where c.entity = ${table} and c.action = 'upsert' and c.data is not null
         and r.organization_id = c.organization_id and r.uuid = c.uuid`.execute(db);
  }

  await sql`
    create table medreport.document_issues (
      organization_id bigint not null references medreport.organizations (id),
      record_type text not null check (record_type in ('prescription', 'invoice')),
      record_uuid uuid not null,
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      size integer not null check (size > 0),
      issued_at timestamptz not null,
      primary key (organization_id, record_type, record_uuid)
    )`.execute(db);
  await enableTenantRls(db, 'medreport.document_issues');
  await allowCrossOrganizationRead(db, 'medreport.document_issues');

  // What GET /api/verify/{code} answers, for any organization's record: its kind, whether it was
  // deleted, and its last issue. As the tables' owner, named for review, executable by the app
  // role only (db/app-role.ts).
  await sql`
    create function medreport.verify_document(code text)
    returns table (record_type text, cancelled boolean, issued_at timestamptz, sha256 text)
    language sql stable security definer set search_path = pg_catalog, pg_temp as $$
      select r.record_type, r.deleted_at is not null, i.issued_at, i.sha256
        from (
          select 'prescription' as record_type, organization_id, uuid, deleted_at
            from medreport.prescriptions where verification_code = $1
          union all
          select 'invoice', organization_id, uuid, deleted_at
            from medreport.invoices where verification_code = $1
        ) r
        left join medreport.document_issues i
          on i.organization_id = r.organization_id and i.record_type = r.record_type and i.record_uuid = r.uuid
    $$`.execute(db);
  await sql`revoke all on function medreport.verify_document(text) from public`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function medreport.verify_document(text)`.execute(db);
  await sql`drop table medreport.document_issues`.execute(db);
  for (const table of RECORDS) {
    await sql`update medreport.changes set data = data - 'verification_code' where entity = ${table} and data is not null`.execute(
      db,
    );
    await sql`alter table ${sql.table(`medreport.${table}`)} drop column verification_code`.execute(db);
  }
  await sql`drop function medreport.new_verification_code()`.execute(db);
}
