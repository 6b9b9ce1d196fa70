import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, DateOnly, NullableTimestamp, Timestamp } from './column-types.js';

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

type UploadCategorie =
  | 'carnet_vaccination'
  | 'attestation_assurance'
  | 'decision_justice'
  | 'ordonnance'
  | 'photo'
  | 'autre';

export interface UploadsTable {
  id: string;
  nom: string;
  type_mime: string;
  taille: ColumnType<number, number, never>;
  sha256: string;
  categorie: UploadCategorie;
  id_enfant: string | null;
  id_auteur: string | null;
  /** Where the bytes are in storage (adapters/storage); never in an answer. */
  cle: string;
  cree_le: CreatedAt;
}

export type DossierStatut = 'brouillon' | 'soumis' | 'valide' | 'a_completer';

/** The jsonb columns hold what domain/ptitspas/dossiers/model.ts describes. */
export interface DossiersTable {
  id_enfant: string;
  statut: Generated<DossierStatut>;
  responsables: unknown;
  contacts_urgence: unknown;
  personnes_autorisees: unknown;
  sante: unknown;
  autorisations: unknown;
  historique: ColumnType<unknown, unknown, unknown>;
  cree_le: CreatedAt;
  modifie_le: CreatedAt;
}

interface DossiersPiecesTable {
  id_enfant: string;
  id_upload: string;
  position: number;
}

export type NotificationType =
  | 'compte_valide'
  | 'dossier_soumis'
  | 'dossier_valide'
  | 'dossier_a_completer'
  | 'contrat_propose'
  | 'contrat_signe'
  | 'evenement'
  | 'message';

export interface NotificationsTable {
  id: string;
  id_destinataire: string;
  type: NotificationType;
  titre: string;
  corps: string;
  lien_type: 'dossier' | 'contrat' | 'evenement' | 'conversation' | 'utilisateur';
  lien_id: string;
  cree_le: CreatedAt;
  lue_le: NullableTimestamp;
}

type ContratStatut = 'brouillon' | 'propose' | 'signe' | 'termine';
type VersementCongesPayes = 'juin' | 'prise_principale' | 'au_fur_et_a_mesure';

/** Money in integer cents, hours in integer hundredths (domain/ptitspas/contrats/model.ts shows them). */
export interface ContratsTable {
  id: string;
  statut: Generated<ContratStatut>;
  id_enfant: string;
  id_parent_employeur: string;
  id_assistante_maternelle: string;
  /** Null once the author's account is deleted. */
  id_auteur: string | null;
  type_contrat: 'cdi' | 'cdd';
  date_debut: DateOnly;
  date_fin: DateOnly | null;
  periode_essai_jours: number | null;
  annee_complete: boolean;
  semaines_programmees: number;
  versement_conges_payes: VersementCongesPayes | null;
  /** `[{ jour, debut, fin }]` (domain/ptitspas/contrats/pay.ts, Creneau). */
  planning: ColumnType<unknown, string, string>;
  taux_horaire_centimes: number;
  majoration_heures_majorees: number | null;
  indemnite_entretien_centimes: number;
  indemnite_repas_centimes: number | null;
  jour_paiement: number;
  lieu_accueil: string;
  heures_hebdo_centiemes: number;
  heures_mensualisees_centiemes: number;
  heures_majorees_hebdo_centiemes: number;
  salaire_mensuel_centimes: number;
  /** `[{ par, role, le }]`, in the order they were given. */
  signatures: ColumnType<unknown, string | undefined, unknown>;
  code_verification: string;
  signe_le: NullableTimestamp;
  /** Where the signed document is in storage, and its SHA-256: never in an answer. */
  document_cle: string | null;
  document_sha256: string | null;
  motif_fin: string | null;
  cree_le: CreatedAt;
  modifie_le: CreatedAt;
}

export type EvenementType =
  | 'arrivee'
  | 'depart'
  | 'repas'
  | 'biberon'
  | 'sieste'
  | 'change'
  | 'activite'
  | 'humeur'
  | 'temperature'
  | 'medicament'
  | 'incident'
  | 'photo'
  | 'note';

export interface EvenementsTable {
  id: string;
  id_enfant: string;
  id_auteur: string | null;
  type: EvenementType;
  survenu_le: Timestamp;
  /** Per type: domain/ptitspas/evenements/details.ts. */
  details: ColumnType<unknown, string, string>;
  note: string | null;
  id_upload: string | null;
  cree_le: CreatedAt;
}

interface ConversationsTable {
  id: string;
  sujet: string;
  id_enfant: string | null;
  id_createur: string | null;
  cree_le: CreatedAt;
  modifie_le: CreatedAt;
}

interface ConversationsParticipantsTable {
  id_conversation: string;
  id_utilisateur: string;
  lu_jusqua: string | null;
}

export interface MessagesTable {
  id: string;
  id_conversation: string;
  id_auteur: string | null;
  contenu: string;
  id_upload: string | null;
  cree_le: CreatedAt;
}

/** A WebSocket ticket: its SHA-256 only; single use, 30 seconds, for the login that asked. */
interface TicketsWsTable {
  ticket_hash: Buffer;
  id_famille: string;
  expire_le: Timestamp;
}

/** The number of rows of `enfants` and `dossiers`, kept by triggers (migration 0026): read only. */
interface RowCountsTable {
  table_name: ColumnType<'enfants' | 'dossiers', never, never>;
  total: ColumnType<number, never, never>;
}

/** The PtitsPas tables, keyed `schema.table`. */
export interface PtitsPasTables {
  'ptitspas.utilisateurs': UtilisateursTable;
  'ptitspas.parents': ParentsTable;
  'ptitspas.assistantes_maternelles': AssistantesMaternellesTable;
  'ptitspas.historique_statuts': HistoriqueStatutsTable;
  'ptitspas.refresh_families': RefreshFamiliesTable;
  'ptitspas.refresh_tokens': RefreshTokensTable;
  'ptitspas.liens_mot_de_passe': LiensMotDePasseTable;
  'ptitspas.enfants': EnfantsTable;
  'ptitspas.enfants_parents': EnfantsParentsTable;
  'ptitspas.uploads': UploadsTable;
  'ptitspas.dossiers': DossiersTable;
  'ptitspas.dossiers_pieces': DossiersPiecesTable;
  'ptitspas.notifications': NotificationsTable;
  'ptitspas.contrats': ContratsTable;
  'ptitspas.tickets_ws': TicketsWsTable;
  'ptitspas.evenements': EvenementsTable;
  'ptitspas.conversations': ConversationsTable;
  'ptitspas.conversations_participants': ConversationsParticipantsTable;
  'ptitspas.messages': MessagesTable;
  'ptitspas.row_counts': RowCountsTable;
}
