import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table medreport.users (
      id bigint generated always as identity primary key,
      uuid uuid not null unique,
      name text not null,
      email text not null,
      password_hash text,
      phone text,
      address text,
      speciality text,
      medical_order_number text,
      birth_date date,
      email_verified_at timestamptz,
      avatar text,
      role text check (role in ('owner', 'doctor', 'admin')),
      organization_id bigint,
      has_used_trial boolean not null default false,
      status text not null default 'active' check (status in ('active', 'suspended')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  // E-mail addresses are unique whatever their case.
  await sql`create unique index users_email_lower_key on medreport.users (lower(email))`.execute(db);

  // One row per issued access token: logout, refresh, password changes and suspension revoke for real.
  await sql`
    create table medreport.sessions (
      id uuid primary key,
      user_id bigint not null references medreport.users (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      ip text,
      user_agent text
    )`.execute(db);
  await sql`create index sessions_user_id_idx on medreport.sessions (user_id) where revoked_at is null`.execute(db);

  await sql`
    create table medreport.password_resets (
      id bigint generated always as identity primary key,
      user_id bigint not null references medreport.users (id) on delete cascade,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`.execute(db);
  await sql`create index password_resets_user_id_idx on medreport.password_resets (user_id)`.execute(db);

  await sql`
    create table medreport.oauth_identities (
      id bigint generated always as identity primary key,
      user_id bigint not null references medreport.users (id) on delete cascade,
      provider text not null,
      provider_user_id text not null,
      email text,
      created_at timestamptz not null default now(),
      unique (provider, provider_user_id)
    )`.execute(db);
  await sql`create index oauth_identities_user_id_idx on medreport.oauth_identities (user_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table medreport.oauth_identities`.execute(db);
  await sql`drop table medreport.password_resets`.execute(db);
  await sql`drop table medreport.sessions`.execute(db);
  await sql`drop table medreport.users`.execute(db);
}
