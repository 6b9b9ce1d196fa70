import type { ColumnType, Generated, Selectable } from 'kysely';

/** Read as Date; written as Date or ISO string; defaulted by the database on insert. */
type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** `date` columns travel as 'YYYY-MM-DD' strings (see db/connection.ts). */
type DateOnly = string;

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
  /** Null for the platform administrators' own actions. */
  organization_id: ColumnType<number | null, number | null | undefined, never>;
  id: Generated<number>;
  user_id: number | null;
  user_name: string | null;
  action: string;
  entity_type: string;
  entity_uuid: string | null;
  entity_name: string | null;
  created_at: CreatedAt;
}

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
export type PtitsPasRole = 'super_admin' | 'administrateur' | 'gestionnaire' | 'assistante_maternelle' | 'parent';
export type PtitsPasStatut = 'en_attente' | 'actif' | 'suspendu';

export interface UtilisateursTable {
  id: string;
  /** Stored in lower case; unique. */
  email: string;
  /** Null until the account's owner chooses one (registration without password, v1.3). */
  password_hash: string | null;
  prenom: string;
  nom: string;
  telephone: string | null;
  adresse: string | null;
  role: PtitsPasRole;
  statut: Generated<PtitsPasStatut>;
  cree_le: CreatedAt;
  modifie_le: CreatedAt;
  /** Folded prénom, nom and e-mail, for the lists' search. */
  recherche: ColumnType<string, never, never>;
}

interface ParentsTable {
  id_utilisateur: string;
  id_co_parent: string | null;
}

interface AssistantesMaternellesTable {
  id_utilisateur: string;
  numero_agrement: string;
  date_agrement: DateOnly;
  nb_max_enfants: number;
  place_disponible: number;
  disponible: Generated<boolean>;
  biographie: string | null;
  ville_residence: string | null;
  annee_experience: number | null;
  specialite: string | null;
  /** AES-256-GCM ciphertext of the NIR (routes/ptitspas/assistantes-maternelles/nir.ts), never the number. */
  nir_chiffre: Buffer | null;
  /** The id of the key that encrypted `nir_chiffre`. */
  nir_cle: string | null;
}

type StatutEnfant = 'actif' | 'scolarise' | 'inactif';

interface EnfantsTable {
  id: string;
  prenom: string;
  nom: string;
  genre: 'H' | 'F';
  date_naissance: DateOnly;
  statut: Generated<StatutEnfant>;
  consentement_photo: Generated<boolean>;
  cree_le: CreatedAt;
  modifie_le: CreatedAt;
  recherche: ColumnType<string, never, never>;
}

interface EnfantsParentsTable {
  id_enfant: string;
  id_parent: string;
}

interface HistoriqueStatutsTable {
  id: Generated<number>;
  id_utilisateur: string;
  ancien_statut: PtitsPasStatut;
  nouveau_statut: PtitsPasStatut;
  commentaire: string | null;
  par: string | null;
  cree_le: CreatedAt;
}

interface RefreshFamiliesTable {
  id: string;
  id_utilisateur: string;
  cree_le: CreatedAt;
  revoque_le: NullableTimestamp;
  motif_revocation: 'logout' | 'reuse' | 'suspension' | null;
}

interface RefreshTokensTable {
  token_hash: Buffer;
  id_famille: string;
  cree_le: CreatedAt;
  expire_le: Timestamp;
  remplace_le: NullableTimestamp;
  successeur: Buffer | null;
}

interface LiensMotDePasseTable {
  token_hash: Buffer;
  id_utilisateur: string;
  cree_le: CreatedAt;
  expire_le: Timestamp;
  utilise_le: NullableTimestamp;
}

export interface Database {
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
  'medreport.changes': ChangesTable;
  'medreport.sync_horizons': SyncHorizonsTable;
  'medreport.sync_devices': SyncDevicesTable;
  'medreport.sync_errors': SyncErrorsTable;
  'ptitspas.utilisateurs': UtilisateursTable;
  'ptitspas.parents': ParentsTable;
  'ptitspas.assistantes_maternelles': AssistantesMaternellesTable;
  'ptitspas.historique_statuts': HistoriqueStatutsTable;
  'ptitspas.refresh_families': RefreshFamiliesTable;
  'ptitspas.refresh_tokens': RefreshTokensTable;
  'ptitspas.liens_mot_de_passe': LiensMotDePasseTable;
  'ptitspas.enfants': EnfantsTable;
  'ptitspas.enfants_parents': EnfantsParentsTable;
}

export type UserRow = Selectable<UsersTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
