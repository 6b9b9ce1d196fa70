import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { ContratsTable } from '../../../db/schema-ptitspas.js';
import { NotFound } from '../../errors.js';
import { normalizeVerificationCode } from '../../shared/documents/verification-code.js';
import { paginate } from '../../shared/pagination.js';
import type { PtitsPasCaller } from '../caller.js';
import { isStaff, visibleEnfants } from '../enfants/visibility.js';
import { sortOf } from '../lists.js';
import type { Contrat, ContratListOptions, Signature, Verification } from './model.js';
import type { Creneau } from './pay.js';
import { CONTRAT_NOT_FOUND } from './rules.js';

export type ContratRow = Selectable<ContratsTable>;

/**
 * The contracts `caller` reads: staff every one; a parent those they employ under and those of
 * their children (the child's other parent is a party too); a childminder hers, in every state
 * (she reads a contract before signing it, before she sees the child).
 */
export function visibleContrats(db: Kysely<Database>, caller: PtitsPasCaller) {
  const all = db.selectFrom('ptitspas.contrats as c');
  if (isStaff(caller)) return all;
  if (caller.role === 'assistante_maternelle') return all.where('c.id_assistante_maternelle', '=', caller.id);
  return all.where((eb) =>
    eb.or([
      eb('c.id_parent_employeur', '=', caller.id),
      eb('c.id_enfant', 'in', visibleEnfants(db, caller).select('e.id')),
    ]),
  );
}

const euros = (cents: number | null) => (cents === null ? null : cents / 100);
const hours = (hundredths: number) => hundredths / 100;

/** A contract as the API shows it: euros and hours from the stored cents and hundredths. */
export function shown(row: ContratRow): Contrat {
  return {
    id: row.id,
    statut: row.statut,
    id_enfant: row.id_enfant,
    id_parent_employeur: row.id_parent_employeur,
    id_assistante_maternelle: row.id_assistante_maternelle,
    type_contrat: row.type_contrat,
    date_debut: row.date_debut,
    date_fin: row.date_fin,
    periode_essai_jours: row.periode_essai_jours,
    annee_complete: row.annee_complete,
    semaines_programmees: row.semaines_programmees,
    versement_conges_payes: row.versement_conges_payes,
    planning: row.planning as Creneau[],
    taux_horaire_brut: row.taux_horaire_centimes / 100,
    majoration_heures_majorees: row.majoration_heures_majorees,
    indemnite_entretien_jour: row.indemnite_entretien_centimes / 100,
    indemnite_repas_jour: euros(row.indemnite_repas_centimes),
    jour_paiement: row.jour_paiement,
    lieu_accueil: row.lieu_accueil,
    heures_hebdo: hours(row.heures_hebdo_centiemes),
    heures_mensualisees: hours(row.heures_mensualisees_centiemes),
    salaire_mensuel_brut: row.salaire_mensuel_centimes / 100,
    heures_majorees_hebdo: hours(row.heures_majorees_hebdo_centiemes),
    signatures: row.signatures as Signature[],
    code_verification: row.code_verification,
    cree_le: row.cree_le.toISOString(),
    modifie_le: row.modifie_le.toISOString(),
  };
}

/** The contract `id` as stored, or NotFound when `caller` does not read it. */
export async function findContrat(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<ContratRow> {
  const row = await visibleContrats(db, caller).selectAll('c').where('c.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(CONTRAT_NOT_FOUND);
  return row;
}

export async function getContrat(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<Contrat> {
  return shown(await findContrat(db, caller, id));
}

/** A page of the contracts `caller` reads, with the list's filters, and how many match. */
export async function listContrats(db: Kysely<Database>, caller: PtitsPasCaller, options: ContratListOptions) {
  let query = visibleContrats(db, caller).selectAll('c');
  if (options.statut) query = query.where('c.statut', '=', options.statut);
  if (options.id_enfant) query = query.where('c.id_enfant', '=', options.id_enfant);
  if (options.id_assistante_maternelle) {
    query = query.where('c.id_assistante_maternelle', '=', options.id_assistante_maternelle);
  }
  const { column, direction } = sortOf<'cree_le' | 'modifie_le' | 'date_debut' | 'statut'>(options.sort);
  const { rows, total } = await paginate<ContratRow>(
    query.orderBy(`c.${column}`, direction).orderBy('c.id', direction),
    options,
  );
  return { rows: rows.map(shown), total };
}

/**
 * GET /verification/:code, public: the contract's state, when it was signed and the SHA-256 of
 * its signed document; nothing about its parties or its pay. NotFound for an unknown code.
 */
export async function verifyContrat(db: Kysely<Database>, input: string): Promise<Verification> {
  const code = normalizeVerificationCode(input);
  const row =
    code &&
    (await db
      .selectFrom('ptitspas.contrats')
      .select(['statut', 'signe_le', 'document_sha256'])
      .where('code_verification', '=', code)
      .executeTakeFirst());
  if (!row) throw new NotFound('Code de vérification inconnu');
  return {
    type: 'contrat',
    statut: row.statut,
    signe_le: row.signe_le?.toISOString() ?? null,
    sha256: row.document_sha256,
  };
}
