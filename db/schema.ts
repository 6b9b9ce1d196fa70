import type { ColumnType, Generated, Selectable } from 'kysely';
import type { CreatedAt, DateOnly, NullableTimestamp, Timestamp } from './column-types.js';
import type { OpsTables } from './schema-ops.js';
import type { PtitsPasTables } from './schema-ptitspas.js';

export type { PtitsPasRole, PtitsPasStatut, UtilisateursTable } from './schema-ptitspas.js';
export type MedReportRole = 'owner' | 'doctor';
export type PlatformRole = 'admin';

export interface UsersTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  email: string;
  password_hash: string | null;
  phone: string | null;
  address: string | null;
  speciality: string | null;
  medical_order_number: string | null;
  birth_date: DateOnly | null;
  email_verified_at: NullableTimestamp;
  avatar: string | null;
  /** The organization role. */
  role: MedReportRole | null;
  /** Platform administration, independent of any organization (docs/admin.md). */
  platform_role: PlatformRole | null;
  organization_id: number | null;
  has_used_trial: Generated<boolean>;
  status: Generated<'active' | 'suspended'>;
  /** Set when an administrator deleted the account: the row stays, without personal data. */
  deleted_at: NullableTimestamp;
  /** Folded name, e-mail, speciality and order number, for the administrators' search. */
  search_text: ColumnType<string, never, never>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

interface SessionsTable {
  id: string;
  user_id: number;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  ip: string | null;
  user_agent: string | null;
}

interface PasswordResetsTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

interface OAuthIdentitiesTable {
  id: Generated<number>;
  user_id: number;
  provider: string;
  provider_user_id: string;
  email: string | null;
  created_at: CreatedAt;
}

interface OrganizationsTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  code: string;
  owner_user_id: number;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** Columns every clinical record has. */
interface RecordColumns {
  /** Set by the tenant handle on insert, never updated. */
  organization_id: ColumnType<number, number | undefined, never>;
  uuid: string;
  created_by: number | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  deleted_at: NullableTimestamp;
}

export interface PatientsTable extends RecordColumns {
  name: string;
  birth_date: DateOnly | null;
  gender: 'male' | 'female' | 'other' | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  blood_group: string | null;
  allergies: string | null;
  notes: string | null;
}

interface PrescriptionsTable extends RecordColumns {
  patient_uuid: string;
  doctor_uuid: string;
  medication: string;
  dosage: string | null;
  duration: string | null;
  notes: string | null;
  validity_period: number | null;
  file_uuid: string | null;
  date_issued: ColumnType<DateOnly, DateOnly | undefined, DateOnly>;
  verification_code: DocumentCode;
}

interface InvoicesTable extends RecordColumns {
  patient_uuid: string;
  doctor_uuid: string;
  designation: string;
  unit_price: number;
  quantity: number;
  total_amount: number;
  file_uuid: string | null;
  date_issued: ColumnType<DateOnly, DateOnly | undefined, DateOnly>;
  verification_code: DocumentCode;
}

/** Each organization's number of live records of one kind, kept by triggers (migration 0025): read only. */
interface RecordCountsTable {
  organization_id: ColumnType<number, never, never>;
  /** The record table's name: `patients`, `prescriptions`, `invoices`. */
  entity: ColumnType<string, never, never>;
  live: ColumnType<number, never, never>;
}

/** A record's verification code (migration 0017): made by a column default, never written by the code. */
type DocumentCode = ColumnType<string, never, never>;

/** The last PDF issued of each prescription and invoice (docs/documents.md): not part of the record. */
interface DocumentIssuesTable {
  organization_id: ColumnType<number, number | undefined, never>;
  record_type: 'prescription' | 'invoice';
  record_uuid: string;
  sha256: string;
  size: number;
  issued_at: Timestamp;
}

export interface FilesTable extends RecordColumns {
  owner_type: 'patient' | 'prescription' | 'invoice';
  owner_uuid: string;
  original_name: string;
  mime_type: string;
  size: number;
  checksum: string;
  path: string;
  file_version: number;
}

export interface ActivityLogTable {
  organization_id: ColumnType<number, number | undefined, never>;
  id: Generated<number>;
  user_id: number | null;
  user_name: string | null;
  action: string;
  entity_type: string;
  entity_uuid: string | null;
  entity_name: string | null;
  created_at: CreatedAt;
}

/**
 * The entries of no organization (migration 0023): administrators' actions and events of accounts
 * without one. Written by SECURITY DEFINER functions, read by the administrators' handle only.
 */
type PlatformActivityLogTable = Omit<ActivityLogTable, 'organization_id'>;

export type SyncEntity = 'patients' | 'prescriptions' | 'invoices' | 'files';

/** The sync feed (docs/sync.md): appended by routes/medreport/mutation.ts only. */
interface ChangesTable {
  organization_id: ColumnType<number, number | undefined, never>;
  seq: Generated<number>;
  entity: SyncEntity;
  uuid: string;
  action: 'upsert' | 'delete';
  data: unknown;
  user_id: number | null;
  device_id: string | null;
  changed_at: CreatedAt;
}

interface SyncHorizonsTable {
  organization_id: number;
  /** The organization's last pruned change: every change up to it is gone. */
  seq: number;
  /** When that change was made (migration 0014): what an ISO `since` is compared with. */
  changed_at: Timestamp;
  pruned_at: CreatedAt;
}

interface SyncDevicesTable {
  organization_id: ColumnType<number, number | undefined, never>;
  user_id: number;
  device_id: string;
  last_pulled_seq: number | null;
  last_pull_at: NullableTimestamp;
  last_push_at: NullableTimestamp;
}

interface SyncErrorsTable {
  organization_id: ColumnType<number, number | undefined, never>;
  id: Generated<number>;
  user_id: number | null;
  device_id: string;
  occurred_at: CreatedAt;
  message: string;
  metadata: unknown;
}

/** The Kysely `Database` interface: one entry per table, keyed `schema.table`. */
export interface Database extends PtitsPasTables, OpsTables {
  'medreport.users': UsersTable;
  'medreport.sessions': SessionsTable;
  'medreport.password_resets': PasswordResetsTable;
  'medreport.oauth_identities': OAuthIdentitiesTable;
  'medreport.organizations': OrganizationsTable;
  'medreport.patients': PatientsTable;
  'medreport.prescriptions': PrescriptionsTable;
  'medreport.invoices': InvoicesTable;
  'medreport.files': FilesTable;
  'medreport.activity_log': ActivityLogTable;
  'medreport.platform_activity_log': PlatformActivityLogTable;
  'medreport.document_issues': DocumentIssuesTable;
  'medreport.record_counts': RecordCountsTable;
  'medreport.changes': ChangesTable;
  'medreport.sync_horizons': SyncHorizonsTable;
  'medreport.sync_devices': SyncDevicesTable;
  'medreport.sync_errors': SyncErrorsTable;
}

export type UserRow = Selectable<UsersTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
