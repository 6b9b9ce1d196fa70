import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { Adresse, Role, Uuid } from '../accounts/model.js';
import { Page, Sort } from '../lists.js';

/** What a childminding contract holds (docs/ptitspas.md, Contrats): the API's bodies and answers. */
const STATUTS_CONTRAT = ['brouillon', 'propose', 'signe', 'termine'] as const;
const StatutContrat = StringEnum(STATUTS_CONTRAT);
const JOURS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'] as const;
const Heure = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM' });
const Day = Type.String({ format: 'date' });
const Timestamp = Type.String({ format: 'date-time' });
/** Euros with at most two decimals (checked by the rules: JSON Schema's multipleOf is not exact in floating point). */
const Euros = (description: string) => Type.Number({ minimum: 0, maximum: 1000, description });

const Creneau = Type.Object({ jour: StringEnum(JOURS), debut: Heure, fin: Heure });
const Planning = Type.Array(Creneau, { minItems: 1, maxItems: 28, description: 'Pas de chevauchement dans un jour' });
const VersementCongesPayes = StringEnum(['juin', 'prise_principale', 'au_fur_et_a_mesure'] as const, {
  description: 'Année incomplète : obligatoire ; année complète : sans objet (null)',
});
const Majoration = Type.Integer({
  minimum: 10,
  maximum: 100,
  description: 'Pourcentage ; obligatoire quand le planning dépasse 45 h par semaine',
});

/** What the parties choose; everything else is the server's (computed, or set by the steps). */
const Terms = {
  id_parent_employeur: Uuid,
  id_assistante_maternelle: Uuid,
  type_contrat: StringEnum(['cdi', 'cdd'] as const),
  date_debut: Day,
  date_fin: Nullable(Day),
  periode_essai_jours: Nullable(Type.Integer({ minimum: 0, maximum: 92 })),
  annee_complete: Type.Boolean(),
  semaines_programmees: Nullable(
    Type.Integer({ minimum: 1, maximum: 52, description: '52 en année complète (valeur envoyée ignorée), 1–46 sinon' }),
  ),
  versement_conges_payes: Nullable(VersementCongesPayes),
  planning: Planning,
  taux_horaire_brut: Euros('€ brut de l’heure, au moins le minimum en vigueur à date_debut'),
  majoration_heures_majorees: Nullable(Majoration),
  indemnite_entretien_jour: Euros('€ par jour, au moins le minimum pour la plus longue journée'),
  indemnite_repas_jour: Nullable(Euros('€ par jour')),
  jour_paiement: Type.Integer({ minimum: 1, maximum: 31, description: 'Jour du mois' }),
  lieu_accueil: Adresse,
};
export type Terms = {
  [K in keyof typeof Terms]: Static<(typeof Terms)[K]>;
};

/** POST /contrats: a parent may leave out the employer (themselves) and the optional terms. */
export const ContratBody = Type.Object({
  id_enfant: Uuid,
  ...Terms,
  id_parent_employeur: Type.Optional(Uuid),
  date_fin: Type.Optional(Terms.date_fin),
  periode_essai_jours: Type.Optional(Terms.periode_essai_jours),
  semaines_programmees: Type.Optional(Terms.semaines_programmees),
  versement_conges_payes: Type.Optional(Terms.versement_conges_payes),
  majoration_heures_majorees: Type.Optional(Terms.majoration_heures_majorees),
  indemnite_repas_jour: Type.Optional(Terms.indemnite_repas_jour),
});
export type ContratBody = Static<typeof ContratBody>;

/** PATCH /contrats/:id: any of the terms, checked again with the others as they stand. */
export const ContratChanges = Type.Partial(Type.Object(Terms), { minProperties: 1 });
export type ContratChanges = Static<typeof ContratChanges>;

export const TerminerBody = Type.Object({
  date_fin: Day,
  motif: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' }),
});
export type TerminerBody = Static<typeof TerminerBody>;

const Signature = Type.Object({ par: Uuid, role: Role, le: Timestamp });
export type Signature = Static<typeof Signature>;

export const Contrat = Type.Object(
  {
    id: Uuid,
    statut: StatutContrat,
    id_enfant: Uuid,
    ...Terms,
    semaines_programmees: Type.Integer(),
    heures_hebdo: Type.Number(),
    heures_mensualisees: Type.Number(),
    salaire_mensuel_brut: Type.Number({ description: '€ brut par mois, mensualisé' }),
    heures_majorees_hebdo: Type.Number({ description: 'Heures au-delà de 45 par semaine' }),
    signatures: Type.Array(Signature),
    code_verification: Type.String({ description: 'Code de vérification du document (GET /verification/:code)' }),
    cree_le: Timestamp,
    modifie_le: Timestamp,
  },
  { $id: 'PtitsPasContrat' },
);
export type Contrat = Static<typeof Contrat>;

export const ContratListOptions = Type.Object({
  ...Page,
  sort: Sort(['cree_le', 'modifie_le', 'date_debut', 'statut'], '-cree_le'),
  statut: Type.Optional(StatutContrat),
  id_enfant: Type.Optional(Uuid),
  id_assistante_maternelle: Type.Optional(Uuid),
});
export type ContratListOptions = Static<typeof ContratListOptions>;

/** GET /verification/:code: what anyone holding the document may learn, nothing personal. */
export const Verification = Type.Object({
  type: Type.Literal('contrat'),
  statut: StatutContrat,
  signe_le: Nullable(Timestamp),
  sha256: Nullable(Type.String({ description: 'SHA-256 du document signé, tel que servi' })),
});
export type Verification = Static<typeof Verification>;
