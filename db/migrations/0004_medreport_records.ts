import { type Kysely, sql } from 'kysely';
import { enableTenantRls } from '../rls.js';

// Clinical records. Every table is tenant-owned: `organization_id not null`, primary key and
// indexes led by it (ready to distribute by tenant), row-level security on. Rows are addressed by
// uuid within their organization, so a client-chosen uuid never collides across organizations.
// Deletes are soft (`deleted_at`) so sync can report them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table medreport.patients (
      organization_id bigint not null references medreport.organizations (id),
      uuid uuid not null,
      name text not null,
      birth_date date,
      gender text check (gender in ('male', 'female', 'other')),
      phone text,
      email text,
      address text,
      blood_group text check (blood_group in ('A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-')),
      allergies text,
      notes text,
      created_by bigint references medreport.users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      primary key (organization_id, uuid)
    )`.execute(db);
  await sql`create index patients_list_idx on medreport.patients (organization_id, created_at desc) where deleted_at is null`.execute(
    db,
  );

  await sql`
    create table medreport.prescriptions (
      organization_id bigint not null references medreport.organizations (id),
      uuid uuid not null,
      patient_uuid uuid not null,
      doctor_uuid uuid not null references medreport.users (uuid),
      medication text not null,
      dosage text,
      duration text,
      notes text,
      validity_period integer check (validity_period > 0),
      file_uuid uuid,
      date_issued date not null default current_date,
      created_by bigint references medreport.users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      primary key (organization_id, uuid),
      foreign key (organization_id, patient_uuid) references medreport.patients (organization_id, uuid)
    )`.execute(db);
  await sql`create index prescriptions_list_idx on medreport.prescriptions (organization_id, created_at desc) where deleted_at is null`.execute(
    db,
  );
  await sql`create index prescriptions_patient_idx on medreport.prescriptions (organization_id, patient_uuid)`.execute(
    db,
  );

  await sql`
    create table medreport.invoices (
      organization_id bigint not null references medreport.organizations (id),
      uuid uuid not null,
      patient_uuid uuid not null,
      doctor_uuid uuid not null references medreport.users (uuid),
      designation text not null,
      unit_price bigint not null check (unit_price >= 0),
      quantity integer not null check (quantity > 0),
      total_amount bigint not null check (total_amount = unit_price * quantity),
      file_uuid uuid,
      date_issued date not null default current_date,
      created_by bigint references medreport.users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      primary key (organization_id, uuid),
      foreign key (organization_id, patient_uuid) references medreport.patients (organization_id, uuid)
    )`.execute(db);
  await sql`create index invoices_list_idx on medreport.invoices (organization_id, created_at desc) where deleted_at is null`.execute(
    db,
  );
  await sql`create index invoices_patient_idx on medreport.invoices (organization_id, patient_uuid)`.execute(db);

  await sql`
    create table medreport.files (
      organization_id bigint not null references medreport.organizations (id),
      uuid uuid not null,
      owner_type text not null check (owner_type in ('patient', 'prescription', 'invoice')),
      owner_uuid uuid not null,
      original_name text not null,
      mime_type text not null,
      size bigint not null,
      checksum text not null,
      path text not null,
      file_version integer not null,
      created_by bigint references medreport.users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      primary key (organization_id, uuid),
      unique (organization_id, owner_type, owner_uuid, original_name, file_version)
    )`.execute(db);

  await sql`
    create table medreport.activity_log (
      organization_id bigint not null references medreport.organizations (id),
      id bigint generated always as identity,
      user_id bigint references medreport.users (id),
      user_name text,
      action text not null,
      entity_type text not null,
      entity_uuid uuid,
      entity_name text,
      created_at timestamptz not null default now(),
      primary key (organization_id, id)
    )`.execute(db);
  await sql`create index activity_log_time_idx on medreport.activity_log (organization_id, created_at desc)`.execute(
    db,
  );

  for (const table of ['patients', 'prescriptions', 'invoices', 'files', 'activity_log']) {
    await enableTenantRls(db, `medreport.${table}`);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['activity_log', 'files', 'invoices', 'prescriptions', 'patients']) {
    await sql`drop table ${sql.table(`medreport.${table}`)}`.execute(db);
  }
}
