import { type Kysely, sql } from 'kysely';
import type { Storage } from '../../../adapters/storage/index.js';
import type { Database } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../../errors.js';
import { newVerificationCode } from '../../shared/documents/verification-code.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { isStaff, parentsOf, visibleEnfants } from '../enfants/visibility.js';
import { notify } from '../notifications/notify.js';
import { partiesOf, renderContrat, verificationUrlOf } from './document.js';
import type { Contrat, ContratBody, ContratChanges, Signature, TerminerBody, Terms } from './model.js';
import { type ContratRow, getContrat, shown, visibleContrats } from './queries.js';
import { assertEndDate, CONTRAT_NOT_FOUND, checkedPay } from './rules.js';

/** What signing needs besides the database: where the signed document goes, and its verification URL. */
export interface ContratDocuments {
  storage: Storage;
  verificationUrl(code: string): string;
}

/** The documents of a server whose public address is `publicUrl` (PUBLIC_URL): its verification route is printed on them. */
export const contratDocuments = (storage: Storage, publicUrl: string): ContratDocuments => ({
  storage,
  verificationUrl: (code) => verificationUrlOf(publicUrl, code),
});

const cents = (euros: number) => Math.round(euros * 100);
const cents0 = (euros: number | null) => (euros === null ? null : cents(euros));
const hundredths = (hours: number) => Math.round(hours * 100);

/**
 * The terms checked against the database (the employer is a parent of the child, the childminder
 * an active one) and the rules (rules.ts), with the pay computed: the columns a write stores.
 */
async function checkedColumns(trx: Kysely<Database>, idEnfant: string, terms: Terms) {
  const [parents, assistante, employs] = await Promise.all([
    parentsOf(trx, idEnfant),
    trx
      .selectFrom('ptitspas.utilisateurs')
      .select('id')
      .where('id', '=', terms.id_assistante_maternelle)
      .where('role', '=', 'assistante_maternelle')
      .where('statut', '=', 'actif')
      .executeTakeFirst(),
    employsForAnotherChild(trx, idEnfant, terms),
  ]);
  if (!parents.includes(terms.id_parent_employeur)) {
    throw new Invalid("L'employeur doit être un parent de l'enfant", {
      id_parent_employeur: ["L'employeur doit être un parent de l'enfant."],
    });
  }
  if (!assistante) {
    throw new Invalid('id_assistante_maternelle ne désigne pas une assistante maternelle active', {
      id_assistante_maternelle: ['Ce compte n’est pas celui d’une assistante maternelle active.'],
    });
  }
  const pay = checkedPay(terms, employs);
  return {
    id_parent_employeur: terms.id_parent_employeur,
    id_assistante_maternelle: terms.id_assistante_maternelle,
    type_contrat: terms.type_contrat,
    date_debut: terms.date_debut,
    date_fin: terms.date_fin,
    periode_essai_jours: terms.periode_essai_jours,
    annee_complete: terms.annee_complete,
    semaines_programmees: pay.semaines_programmees,
    versement_conges_payes: terms.annee_complete ? null : terms.versement_conges_payes,
    planning: JSON.stringify(terms.planning),
    taux_horaire_centimes: cents(terms.taux_horaire_brut),
    majoration_heures_majorees: terms.majoration_heures_majorees,
    indemnite_entretien_centimes: cents(terms.indemnite_entretien_jour),
    indemnite_repas_centimes: cents0(terms.indemnite_repas_jour),
    jour_paiement: terms.jour_paiement,
    lieu_accueil: terms.lieu_accueil,
    heures_hebdo_centiemes: hundredths(pay.heures_hebdo),
    heures_mensualisees_centiemes: hundredths(pay.heures_mensualisees),
    heures_majorees_hebdo_centiemes: hundredths(pay.heures_majorees_hebdo),
    salaire_mensuel_centimes: cents(pay.salaire_mensuel_brut),
  };
}

/** The family (the employer or their co-parent) has a signed contract with her for another child. */
async function employsForAnotherChild(trx: Kysely<Database>, idEnfant: string, terms: Terms) {
  const row = await trx
    .selectFrom('ptitspas.contrats as c')
    .select('c.id')
    .where('c.id_assistante_maternelle', '=', terms.id_assistante_maternelle)
    .where('c.statut', '=', 'signe')
    .where('c.id_enfant', '<>', idEnfant)
    .where((eb) =>
      eb.or([
        eb('c.id_parent_employeur', '=', terms.id_parent_employeur),
        eb(
          'c.id_parent_employeur',
          'in',
          eb
            .selectFrom('ptitspas.parents')
            .select('id_co_parent')
            .where('id_utilisateur', '=', terms.id_parent_employeur),
        ),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * POST /contrats, by a parent of the child (the employer by default) or staff: a `brouillon`
 * with its pay computed. The child is one the caller sees (404 otherwise), locked until the commit.
 */
export async function createContrat(db: Kysely<Database>, caller: PtitsPasCaller, body: ContratBody): Promise<Contrat> {
  const employer = body.id_parent_employeur ?? (caller.role === 'parent' ? caller.id : undefined);
  if (!employer) {
    throw new Invalid('id_parent_employeur est obligatoire', {
      id_parent_employeur: ['Le champ id_parent_employeur est obligatoire.'],
    });
  }
  const terms: Terms = {
    id_parent_employeur: employer,
    id_assistante_maternelle: body.id_assistante_maternelle,
    type_contrat: body.type_contrat,
    date_debut: body.date_debut,
    date_fin: body.date_fin ?? null,
    periode_essai_jours: body.periode_essai_jours ?? null,
    annee_complete: body.annee_complete,
    semaines_programmees: body.semaines_programmees ?? null,
    versement_conges_payes: body.versement_conges_payes ?? null,
    planning: body.planning,
    taux_horaire_brut: body.taux_horaire_brut,
    majoration_heures_majorees: body.majoration_heures_majorees ?? null,
    indemnite_entretien_jour: body.indemnite_entretien_jour,
    indemnite_repas_jour: body.indemnite_repas_jour ?? null,
    jour_paiement: body.jour_paiement,
    lieu_accueil: body.lieu_accueil,
  };
  const id = uuidv7();
  await db.transaction().execute(async (trx) => {
    const enfant = await visibleEnfants(trx, caller)
      .select('e.id')
      .where('e.id', '=', body.id_enfant)
      .forKeyShare()
      .executeTakeFirst();
    if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
    const columns = await checkedColumns(trx, body.id_enfant, terms);
    await trx
      .insertInto('ptitspas.contrats')
      .values({
        id,
        id_enfant: body.id_enfant,
        id_auteur: caller.id,
        code_verification: newVerificationCode(),
        ...columns,
      })
      .execute();
  });
  return getContrat(db, caller, id);
}

/** The contract `id` as `caller` reads it, locked until the commit (NotFound when they do not read it). */
async function lockContrat(trx: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<ContratRow> {
  const row = await visibleContrats(trx, caller).selectAll('c').where('c.id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new NotFound(CONTRAT_NOT_FOUND);
  return row;
}

/** The author and staff shape a draft; the other parties only read it. */
function assertAuthor(caller: PtitsPasCaller, row: ContratRow) {
  if (row.id_auteur !== caller.id && !isStaff(caller)) {
    throw new Forbidden('Seuls l’auteur du contrat et le personnel le modifient ou le proposent');
  }
}

function assertStatut(row: ContratRow, expected: ContratRow['statut'], step: string) {
  if (row.statut !== expected) {
    throw new Conflict(`Contrat au statut « ${row.statut} » : ${step} demande le statut « ${expected} »`);
  }
}

/** PATCH /contrats/:id, by the author or staff, only in `brouillon`: the terms checked and the pay computed again. */
export async function updateContrat(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  id: string,
  changes: ContratChanges,
): Promise<Contrat> {
  await db.transaction().execute(async (trx) => {
    const row = await lockContrat(trx, caller, id);
    assertAuthor(caller, row);
    assertStatut(row, 'brouillon', 'la modification');
    const current = shown(row);
    const terms: Terms = {
      id_parent_employeur: changes.id_parent_employeur ?? current.id_parent_employeur,
      id_assistante_maternelle: changes.id_assistante_maternelle ?? current.id_assistante_maternelle,
      type_contrat: changes.type_contrat ?? current.type_contrat,
      date_debut: changes.date_debut ?? current.date_debut,
      date_fin: changes.date_fin !== undefined ? changes.date_fin : current.date_fin,
      periode_essai_jours:
        changes.periode_essai_jours !== undefined ? changes.periode_essai_jours : current.periode_essai_jours,
      annee_complete: changes.annee_complete ?? current.annee_complete,
      semaines_programmees:
        changes.semaines_programmees !== undefined ? changes.semaines_programmees : current.semaines_programmees,
      versement_conges_payes:
        changes.versement_conges_payes !== undefined ? changes.versement_conges_payes : current.versement_conges_payes,
      planning: changes.planning ?? current.planning,
      taux_horaire_brut: changes.taux_horaire_brut ?? current.taux_horaire_brut,
      majoration_heures_majorees:
        changes.majoration_heures_majorees !== undefined
          ? changes.majoration_heures_majorees
          : current.majoration_heures_majorees,
      indemnite_entretien_jour: changes.indemnite_entretien_jour ?? current.indemnite_entretien_jour,
      indemnite_repas_jour:
        changes.indemnite_repas_jour !== undefined ? changes.indemnite_repas_jour : current.indemnite_repas_jour,
      jour_paiement: changes.jour_paiement ?? current.jour_paiement,
      lieu_accueil: changes.lieu_accueil ?? current.lieu_accueil,
    };
    const columns = await checkedColumns(trx, row.id_enfant, terms);
    await trx
      .updateTable('ptitspas.contrats')
      .set({ ...columns, modifie_le: sql`now()` })
      .where('id', '=', id)
      .execute();
  });
  return getContrat(db, caller, id);
}

/** PATCH /contrats/:id/proposer, by the author or staff: `brouillon` → `propose`, the other parties notified. */
export async function proposeContrat(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<Contrat> {
  await db.transaction().execute(async (trx) => {
    const row = await lockContrat(trx, caller, id);
    assertAuthor(caller, row);
    assertStatut(row, 'brouillon', 'la proposition');
    await trx
      .updateTable('ptitspas.contrats')
      .set({ statut: 'propose', modifie_le: sql`now()` })
      .where('id', '=', id)
      .execute();
    const others = [row.id_parent_employeur, row.id_assistante_maternelle].filter((party) => party !== caller.id);
    await notify(trx, others, {
      type: 'contrat_propose',
      titre: 'Contrat à signer',
      corps: 'Un contrat d’accueil vous est proposé : relisez-le et signez-le.',
      lien: { type: 'contrat', id },
    });
  });
  return getContrat(db, caller, id);
}

/**
 * PATCH /contrats/:id/signer, by the parent employer or the childminder, once each, in
 * `propose`. The last signature makes it `signe`: the childminder's row is locked and her signed
 * contracts counted against `nb_max_enfants` (409 when full: of two signings for her last place,
 * the second waits for the first and is refused), one of her places is taken, the signed document
 * is rendered once and stored, and both parties are notified.
 */
export async function signContrat(
  db: Kysely<Database>,
  documents: ContratDocuments,
  caller: PtitsPasCaller,
  id: string,
): Promise<Contrat> {
  let storedKey: string | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const row = await lockContrat(trx, caller, id);
      if (caller.id !== row.id_parent_employeur && caller.id !== row.id_assistante_maternelle) {
        throw new Forbidden('Seuls le parent employeur et l’assistante maternelle signent le contrat');
      }
      assertStatut(row, 'propose', 'la signature');
      const signatures = row.signatures as Signature[];
      if (signatures.some((s) => s.par === caller.id)) throw new Conflict('Vous avez déjà signé ce contrat');
      const now = new Date();
      const signed = [...signatures, { par: caller.id, role: caller.role, le: now.toISOString() }];
      const complete = [row.id_parent_employeur, row.id_assistante_maternelle].every((party) =>
        signed.some((s) => s.par === party),
      );
      if (!complete) {
        await trx
          .updateTable('ptitspas.contrats')
          .set({ signatures: JSON.stringify(signed), modifie_le: sql`now()` })
          .where('id', '=', id)
          .execute();
        return;
      }
      await takePlace(trx, row.id_assistante_maternelle);
      const contrat: Contrat = { ...shown(row), statut: 'signe', signatures: signed };
      const key = `ptitspas/contrats/${id}/${uuidv7()}.pdf`;
      const pdf = renderContrat(
        contrat,
        await partiesOf(trx, contrat),
        documents.verificationUrl(row.code_verification),
        {
          draft: false,
          creationDate: now,
        },
      );
      storedKey = key;
      const { sha256 } = await documents.storage.put(key, pdf, { maxBytes: 20 * 1024 * 1024 });
      await trx
        .updateTable('ptitspas.contrats')
        .set({
          statut: 'signe',
          signatures: JSON.stringify(signed),
          signe_le: now,
          document_cle: key,
          document_sha256: sha256,
          modifie_le: sql`now()`,
        })
        .where('id', '=', id)
        .execute();
      await notify(trx, [row.id_parent_employeur, row.id_assistante_maternelle], {
        type: 'contrat_signe',
        titre: 'Contrat signé',
        corps: 'Le contrat d’accueil est signé par les deux parties.',
        lien: { type: 'contrat', id },
      });
    });
  } catch (err) {
    // The document was stored for a signature that did not commit: it is no one's.
    if (storedKey) await documents.storage.remove(storedKey);
    throw err;
  }
  return getContrat(db, caller, id);
}

/**
 * One of the childminder's places, taken by a contract being signed: her row is locked (signings
 * for her wait for each other), her signed contracts are counted against `nb_max_enfants`, and
 * `place_disponible` goes down by one, never below 0.
 */
async function takePlace(trx: Kysely<Database>, idAssistante: string) {
  const assistante = await trx
    .selectFrom('ptitspas.assistantes_maternelles')
    .select('nb_max_enfants')
    .where('id_utilisateur', '=', idAssistante)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const { n } = await trx
    .selectFrom('ptitspas.contrats')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id_assistante_maternelle', '=', idAssistante)
    .where('statut', '=', 'signe')
    .executeTakeFirstOrThrow();
  if (Number(n) >= assistante.nb_max_enfants) {
    throw new Conflict(
      `L’assistante maternelle accueille déjà ${assistante.nb_max_enfants} enfant(s) sous contrat signé : c’est le maximum de son agrément`,
    );
  }
  await trx
    .updateTable('ptitspas.assistantes_maternelles')
    .set({ place_disponible: sql`greatest(place_disponible - 1, 0)` })
    .where('id_utilisateur', '=', idAssistante)
    .execute();
}

/**
 * PATCH /contrats/:id/terminer, by a party or staff, only `signe`: `termine` at once (the
 * childminder no longer sees the child), with its end date and reason; her place is given back,
 * never above `nb_max_enfants`.
 */
export async function terminateContrat(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  id: string,
  body: TerminerBody,
): Promise<Contrat> {
  await db.transaction().execute(async (trx) => {
    const row = await lockContrat(trx, caller, id);
    assertStatut(row, 'signe', 'la fin du contrat');
    assertEndDate(row.date_debut, body.date_fin);
    await trx
      .updateTable('ptitspas.assistantes_maternelles')
      .set({ place_disponible: sql`least(place_disponible + 1, nb_max_enfants)` })
      .where('id_utilisateur', '=', row.id_assistante_maternelle)
      .execute();
    await trx
      .updateTable('ptitspas.contrats')
      .set({ statut: 'termine', date_fin: body.date_fin, motif_fin: body.motif, modifie_le: sql`now()` })
      .where('id', '=', id)
      .execute();
  });
  return getContrat(db, caller, id);
}
