import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Storage } from '../../adapters/storage/index.js';
import type { Database } from '../../db/schema.js';
import type { DossierStatut, PtitsPasRole } from '../../db/schema-ptitspas.js';
import { recordOrRemove, storeFile } from '../shared/stored-files.js';
import { findUserByEmail, insertUser } from './accounts/users.js';
import { insertAssistantesMaternelles } from './assistantes-maternelles/writes.js';
import type { PtitsPasCaller } from './caller.js';
import { type ContratDocuments, createContrat, proposeContrat, signContrat } from './contrats/writes.js';
import type { DossierBody } from './dossiers/model.js';
import { decideDossier, saveDossier, submitDossier } from './dossiers/writes.js';
import { insertEnfants } from './enfants/writes.js';
import type { EvenementBody } from './evenements/model.js';
import { createEvenement } from './evenements/writes.js';
import { createConversation, postMessage } from './messages/conversations.js';
import { insertParents } from './parents/co-parents.js';
import type { Categorie } from './uploads/model.js';
import { UPLOAD_MAX_BYTES } from './uploads/model.js';
import { newUploadKey, recordUpload } from './uploads/writes.js';

/**
 * PtitsPas demo data for `seed:demo`: an account of each staff role, and families (one parent,
 * one child) whose child has a dossier d'inscription with its pieces, in every state. Written
 * through the functions the API's routes use (accounts, children, uploads with their bytes in
 * storage, dossier steps), so the same rules hold. Idempotent: a family whose parent exists is not
 * added again, a dossier that exists is left as it is. The accounts, children and states are the
 * same every run; ids are not (uuid v7, as the API makes them).
 */
export const PTITSPAS_DEMO_DOMAIN = 'demo.ptitspas.test';

const ptitspasDemoEmail = (index: number) => `parent.${index}@${PTITSPAS_DEMO_DOMAIN}`;
export const PTITSPAS_DEMO_GESTIONNAIRE = `gestionnaire@${PTITSPAS_DEMO_DOMAIN}`;

/** The staff of the role hierarchy, above the childminders and parents: one account each. */
const STAFF = [
  { email: `super-admin@${PTITSPAS_DEMO_DOMAIN}`, prenom: 'Sami', nom: 'Superviseur', role: 'super_admin' },
  { email: `administrateur@${PTITSPAS_DEMO_DOMAIN}`, prenom: 'Agathe', nom: 'Admin', role: 'administrateur' },
  { email: PTITSPAS_DEMO_GESTIONNAIRE, prenom: 'Gaëlle', nom: 'Gestion', role: 'gestionnaire' },
] as const;

/** The state of child `index`'s dossier: the four in turn. */
const STATES: readonly DossierStatut[] = ['brouillon', 'soumis', 'valide', 'a_completer'];
const demoDossierState = (index: number) => STATES[(index - 1) % STATES.length]!;

const PRENOMS = ['Lina', 'Noé', 'Jade', 'Malik', 'Rose', 'Sacha', 'Inaya', 'Léon'];
const NOMS = ['Bernard', 'Diallo', 'Moreau', 'Nguyen', 'Petit', 'Traoré', 'Lefèvre', 'Mbaye'];
/** Each a piece of every demo dossier. */
const PIECES: ReadonlyArray<{ categorie: Categorie; nom: string; titre: string }> = [
  { categorie: 'carnet_vaccination', nom: 'carnet-de-vaccination.pdf', titre: 'Carnet de vaccination' },
  { categorie: 'attestation_assurance', nom: 'attestation-assurance.pdf', titre: 'Attestation d’assurance' },
];

export interface DemoDossiersSummary {
  /** Demo children with a dossier, by its state now. */
  dossiers: Record<DossierStatut, number>;
  /** Dossiers this run created (0 on a rerun). */
  inserted: number;
  /** Pieces this run stored (objects written and recorded). */
  storedPieces: number;
}

// No login here: the seed acts as the account without a token, so there is no refresh family.
const asCaller = (row: Omit<PtitsPasCaller, 'familyId'>): PtitsPasCaller => ({
  id: row.id,
  email: row.email,
  role: row.role,
  prenom: row.prenom,
  nom: row.nom,
  statut: row.statut,
  familyId: '',
});

/** The account of `email` (created `actif` with `passwordHash` when absent), as the caller it acts as. */
async function demoAccount(
  db: Kysely<Database>,
  account: { email: string; prenom: string; nom: string; role: PtitsPasRole },
  passwordHash: string,
  created?: (trx: Kysely<Database>, caller: PtitsPasCaller) => Promise<void>,
): Promise<PtitsPasCaller> {
  const existing = await findUserByEmail(db, account.email);
  if (existing && existing.role !== account.role) {
    throw new Error(`${account.email} is already a PtitsPas ${existing.role}; seed:demo leaves it alone`);
  }
  if (existing) return asCaller(existing);
  return db.transaction().execute(async (trx) => {
    const row = await insertUser(
      trx,
      {
        email: account.email,
        prenom: account.prenom,
        nom: account.nom,
        telephone: '0601020304',
        adresse: '8 rue des Écoles, 69007 Lyon',
      },
      { role: account.role, statut: 'actif', passwordHash },
    );
    const caller = asCaller(row);
    await created?.(trx, caller);
    return caller;
  });
}

/** The staff accounts (each created when absent); how many this run created. */
export async function seedDemoStaff(db: Kysely<Database>, { passwordHash }: { passwordHash: string }) {
  let inserted = 0;
  for (const account of STAFF) {
    if (!(await findUserByEmail(db, account.email))) inserted++;
    await demoAccount(db, account, passwordHash);
  }
  return { staff: STAFF.length, inserted };
}

/**
 * An account of each role the demo has (the childminder and parents with `families` of them), and
 * what it sees (docs/ptitspas.md); seed:demo prints them.
 */
export function ptitspasDemoAccounts(families: number) {
  const [superAdmin, administrateur, gestionnaire] = STAFF;
  const accounts: Array<{ role: PtitsPasRole; email: string; sees: string }> = [
    {
      role: superAdmin.role,
      email: superAdmin.email,
      sees: 'everything: every account (creates staff, deletes accounts), child, dossier and contract',
    },
    {
      role: administrateur.role,
      email: administrateur.email,
      sees: 'every child, dossier and contract, the childminders (NIR hidden); validates and suspends accounts',
    },
    {
      role: gestionnaire.role,
      email: gestionnaire.email,
      sees: 'every child, dossier (decides the submitted ones) and contract, the childminders with their NIR; validates and suspends accounts',
    },
  ];
  if (families === 0) return accounts;
  const signed = CONTRAT_STATES.slice(0, families).filter((s) => s === 'signe').length;
  const parents = Array.from({ length: signed }, (_, i) => `parent.${i + 1}'s`).join(' and ');
  accounts.push(
    {
      role: 'assistante_maternelle',
      email: PTITSPAS_DEMO_ASSISTANTE,
      sees: `the children of her signed contracts (${parents}) and their journal; her conversations`,
    },
    {
      role: 'parent',
      email: ptitspasDemoEmail(1),
      sees: `their child ${PRENOMS[0]}: dossier, contract, journal, conversation with the childminder${families > 1 ? ` (parent.N for N = 1 to ${families}: a child each, dossiers in every state)` : ''}`,
    },
  );
  return accounts;
}

/** Family `index`: its parent and their child (each created when absent), and the child's id. */
async function demoFamily(db: Kysely<Database>, index: number, passwordHash: string) {
  const nom = NOMS[(index - 1) % NOMS.length]!;
  const prenom = PRENOMS[(index - 1) % PRENOMS.length]!;
  const parent = await demoAccount(
    db,
    { email: ptitspasDemoEmail(index), prenom: 'Parent', nom, role: 'parent' },
    passwordHash,
    // Same transaction as the account: a parent account never exists without its profile.
    (trx, caller) => insertParents(trx, [[caller.id]]),
  );
  const child = await db
    .selectFrom('ptitspas.enfants_parents')
    .select('id_enfant')
    .where('id_parent', '=', parent.id)
    .orderBy('id_enfant')
    .executeTakeFirst();
  const [idEnfant] = child
    ? [child.id_enfant]
    : await insertEnfants(db, [
        {
          fields: {
            prenom,
            nom,
            genre: index % 2 ? 'F' : 'H',
            date_naissance: `202${3 + (index % 3)}-0${1 + (index % 9)}-15`,
          },
          parentIds: [parent.id],
        },
      ]);
  return { parent, idEnfant: idEnfant!, prenom, nom };
}

/** A small valid PDF: what file-type reads as application/pdf. */
function demoPdf(titre: string, enfant: string): Buffer {
  return Buffer.from(
    `%PDF-1.4\n% ${titre} de ${enfant} (données de démonstration)\n` +
      '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
      '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
      'trailer << /Root 1 0 R >>\n%%EOF\n',
  );
}

function dossierBody(parent: PtitsPasCaller, nom: string, pieces: string[]): DossierBody {
  return {
    responsables: [
      {
        prenom: parent.prenom,
        nom,
        lien: 'mere',
        telephone: '0601020304',
        email: parent.email,
        autorite_parentale: true,
      },
    ],
    contacts_urgence: [{ prenom: 'Jean', nom, lien: 'grand-père', telephone: '0605060708' }],
    personnes_autorisees: [{ prenom: 'Marc', nom: 'Durand', lien: 'voisin', telephone: '0611223344' }],
    sante: {
      medecin_traitant: { nom: 'Dr Martin', telephone: '0140506070' },
      allergies: [],
      regime_alimentaire: null,
      pai: false,
      vaccinations: [{ vaccin: 'DTP', date: '2024-02-01' }],
      traitement_en_cours: null,
    },
    autorisations: { soins_urgence: true, administration_medicaments: true, droit_image: false, sorties: true },
    pieces,
  };
}

/**
 * `children` families, each child's dossier brought to its state (demoDossierState) by the steps
 * the API takes: the parent uploads the pieces and saves the dossier, submits it, a gestionnaire
 * decides. The pieces' bytes are written to `storage` before their rows, as an upload is.
 */
export async function seedDemoDossiers(
  db: Kysely<Database>,
  storage: Storage,
  { children, passwordHash }: { children: number; passwordHash: string },
): Promise<DemoDossiersSummary> {
  const summary: DemoDossiersSummary = {
    dossiers: { brouillon: 0, soumis: 0, valide: 0, a_completer: 0 },
    inserted: 0,
    storedPieces: 0,
  };
  if (children === 0) return summary;
  const gestionnaire = await demoAccount(db, STAFF[2], passwordHash);
  for (let index = 1; index <= children; index++) {
    const { parent, idEnfant, prenom, nom } = await demoFamily(db, index, passwordHash);
    const existing = await db
      .selectFrom('ptitspas.dossiers')
      .select('statut')
      .where('id_enfant', '=', idEnfant)
      .executeTakeFirst();
    if (existing) {
      summary.dossiers[existing.statut]++;
      continue;
    }
    // Uploads of an earlier, interrupted run are used again rather than doubled.
    const previous = await db
      .selectFrom('ptitspas.uploads')
      .select(['id', 'categorie'])
      .where('id_enfant', '=', idEnfant)
      .execute();
    const pieces: string[] = [];
    for (const piece of PIECES) {
      const found = previous.find((u) => u.categorie === piece.categorie);
      if (found) {
        pieces.push(found.id);
        continue;
      }
      const { id, key } = newUploadKey();
      const file = await storeFile(storage, key, Readable.from([demoPdf(piece.titre, prenom)]), UPLOAD_MAX_BYTES);
      await recordOrRemove(storage, file, () =>
        recordUpload(db, parent, { id, file, filename: piece.nom, categorie: piece.categorie, id_enfant: idEnfant }),
      );
      summary.storedPieces++;
      pieces.push(id);
    }
    const target = demoDossierState(index);
    await saveDossier(db, parent, idEnfant, dossierBody(parent, nom, pieces));
    if (target !== 'brouillon') await submitDossier(db, parent, idEnfant);
    if (target === 'valide') await decideDossier(db, gestionnaire, idEnfant, 'valide', null);
    if (target === 'a_completer') {
      await decideDossier(
        db,
        gestionnaire,
        idEnfant,
        'a_completer',
        'L’attestation d’assurance est illisible : merci d’en déposer une nouvelle.',
      );
    }
    summary.dossiers[target]++;
    summary.inserted++;
  }
  return summary;
}

export const PTITSPAS_DEMO_ASSISTANTE = `assistante@${PTITSPAS_DEMO_DOMAIN}`;

/** The contracts of the first demo families with the demo childminder: signed, signed, proposed. */
const CONTRAT_STATES = ['signe', 'signe', 'propose'] as const;

/**
 * Contracts of the first demo families (seedDemoDossiers made them) with one demo childminder,
 * through the API's functions: created and proposed by the parent, signed by both (the signed
 * document rendered and stored), so a reader can open them. Idempotent: a child that has a
 * contract is left as it is. Returns how many are signed and proposed now.
 */
export async function seedDemoContrats(
  db: Kysely<Database>,
  documents: ContratDocuments,
  { families, passwordHash }: { families: number; passwordHash: string },
) {
  const summary = { signe: 0, propose: 0, inserted: 0 };
  const count = Math.min(families, CONTRAT_STATES.length);
  if (count === 0) return summary;
  const assistante = await demoAccount(
    db,
    { email: PTITSPAS_DEMO_ASSISTANTE, prenom: 'Hélène', nom: 'Garçon', role: 'assistante_maternelle' },
    passwordHash,
    (trx, caller) =>
      insertAssistantesMaternelles(trx, [
        {
          userId: caller.id,
          fields: { numero_agrement: 'AM-DEMO-0001', date_agrement: '2018-09-01', nb_max_enfants: 4 },
        },
      ]),
  );
  for (let index = 1; index <= count; index++) {
    const target = CONTRAT_STATES[index - 1]!;
    const { parent, idEnfant } = await demoFamily(db, index, passwordHash);
    const existing = await db
      .selectFrom('ptitspas.contrats')
      .select('statut')
      .where('id_enfant', '=', idEnfant)
      .executeTakeFirst();
    if (existing) {
      if (existing.statut === 'signe' || existing.statut === 'propose') summary[existing.statut]++;
      continue;
    }
    const contrat = await createContrat(db, parent, {
      id_enfant: idEnfant,
      id_assistante_maternelle: assistante.id,
      type_contrat: 'cdi',
      date_debut: '2026-09-01',
      periode_essai_jours: 30,
      annee_complete: index !== 2,
      semaines_programmees: index === 2 ? 40 : undefined,
      versement_conges_payes: index === 2 ? 'juin' : undefined,
      planning: (['lundi', 'mardi', 'jeudi', 'vendredi'] as const).map((jour) => ({
        jour,
        debut: '08:15',
        fin: '17:45',
      })),
      taux_horaire_brut: 4.1,
      indemnite_entretien_jour: 4.3,
      indemnite_repas_jour: 4,
      jour_paiement: 5,
      lieu_accueil: '8 rue des Écoles, 69007 Lyon (domicile de l’assistante maternelle)',
    });
    await proposeContrat(db, parent, contrat.id);
    if (target === 'signe') {
      await signContrat(db, documents, assistante, contrat.id);
      await signContrat(db, documents, parent, contrat.id);
    }
    summary[target]++;
    summary.inserted++;
  }
  return summary;
}

/** Days of the demo week: the seven before today (Europe/Paris), weekdays only, oldest first. */
function demoWeek(now = new Date()): string[] {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(now);
  const days: string[] = [];
  for (let back = 7; back >= 1; back--) {
    const day = new Date(`${today}T12:00:00Z`);
    day.setUTCDate(day.getUTCDate() - back);
    if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6) days.push(day.toISOString().slice(0, 10));
  }
  return days;
}

/** The instant `time` (HH:MM) of `day` in Paris. */
function parisInstant(day: string, time: string): string {
  const guess = new Date(`${day}T${time}:00Z`);
  const shown = new Date(guess.toLocaleString('en-US', { timeZone: 'Europe/Paris' }));
  const asUtc = new Date(guess.toLocaleString('en-US', { timeZone: 'UTC' }));
  return new Date(guess.getTime() - (shown.getTime() - asUtc.getTime())).toISOString();
}

/** One day at the childminder's, as she notes it. */
const DEMO_DAY: ReadonlyArray<{ at: string; event: Pick<EvenementBody, 'type' | 'details' | 'note'> }> = [
  { at: '08:20', event: { type: 'arrivee', details: {}, note: 'Bien réveillé, petit-déjeuner pris à la maison.' } },
  { at: '09:45', event: { type: 'activite', details: { libelle: 'Pâte à modeler' } } },
  { at: '11:50', event: { type: 'repas', details: { quantite: 'tout' } } },
  { at: '13:00', event: { type: 'change', details: { selle: false } } },
  { at: '15:00', event: { type: 'humeur', details: { humeur: 'joyeux' } } },
  { at: '17:30', event: { type: 'depart', details: {} } },
];

/**
 * The week before today in the journal of the first demo family's child (under a signed contract
 * with the demo childminder, seedDemoContrats), and a conversation between its parent and her,
 * through the API's functions (rules checked, parents notified). Idempotent: a child that has
 * events, a parent who has a conversation, is left as it is.
 */
export async function seedDemoJournal(db: Kysely<Database>, { passwordHash }: { passwordHash: string }) {
  const summary = { evenements: 0, messages: 0 };
  const account = await findUserByEmail(db, PTITSPAS_DEMO_ASSISTANTE);
  if (!account) return summary;
  const assistante = asCaller(account);
  const { parent, idEnfant, prenom } = await demoFamily(db, 1, passwordHash);
  const hasEvents = await db
    .selectFrom('ptitspas.evenements')
    .select('id')
    .where('id_enfant', '=', idEnfant)
    .executeTakeFirst();
  if (!hasEvents) {
    for (const day of demoWeek()) {
      for (const { at, event } of DEMO_DAY) {
        await createEvenement(db, assistante, { id_enfant: idEnfant, survenu_le: parisInstant(day, at), ...event });
        summary.evenements++;
      }
    }
  }
  const hasConversation = await db
    .selectFrom('ptitspas.conversations_participants')
    .select('id_conversation')
    .where('id_utilisateur', '=', parent.id)
    .executeTakeFirst();
  if (!hasConversation) {
    const conversation = await createConversation(db, parent, {
      participants: [assistante.id],
      sujet: `Semaine de ${prenom}`,
      id_enfant: idEnfant,
    });
    const lines: Array<[PtitsPasCaller, string]> = [
      [parent, `Bonjour, ${prenom} a mal dormi cette nuit, il sera peut-être fatigué.`],
      [assistante, 'Merci de me prévenir, je le coucherai un peu plus tôt pour la sieste.'],
      [parent, 'Parfait, merci ! Je viens le chercher à 17 h 30.'],
    ];
    for (const [who, contenu] of lines) {
      await postMessage(db, who, conversation.id, { contenu });
      summary.messages++;
    }
  }
  return summary;
}
