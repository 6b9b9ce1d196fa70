import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import {
  type DocumentInfo,
  draftMark,
  euros,
  fields,
  frenchDate,
  frenchTime,
  heading,
  type Issued,
  paragraph,
  renderPdf,
  section,
  table,
  verificationFooter,
} from '../../shared/documents/pdf.js';
import { groupedCode } from '../../shared/documents/verification-code.js';
import type { Contrat } from './model.js';

/** Who a contract binds, as its document names them. */
export interface ContratParties {
  employeur: Person;
  assistante: Person & { numero_agrement: string; date_agrement: string };
  enfant: { prenom: string; nom: string; date_naissance: string };
}

interface Person {
  prenom: string;
  nom: string;
  adresse: string | null;
  telephone: string | null;
  email: string;
}

/** The parties and the child of `contrat`, as they stand now (a signed document keeps them as they were). */
export async function partiesOf(db: Kysely<Database>, contrat: Contrat): Promise<ContratParties> {
  const person = (id: string) =>
    db
      .selectFrom('ptitspas.utilisateurs')
      .select(['prenom', 'nom', 'adresse', 'telephone', 'email'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const [employeur, assistante, agrement, enfant] = await Promise.all([
    person(contrat.id_parent_employeur),
    person(contrat.id_assistante_maternelle),
    db
      .selectFrom('ptitspas.assistantes_maternelles')
      .select(['numero_agrement', 'date_agrement'])
      .where('id_utilisateur', '=', contrat.id_assistante_maternelle)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('ptitspas.enfants')
      .select(['prenom', 'nom', 'date_naissance'])
      .where('id', '=', contrat.id_enfant)
      .executeTakeFirstOrThrow(),
  ]);
  return { employeur, assistante: { ...assistante, ...agrement }, enfant };
}

/** The public URL of a contract's verification, printed on it as text and QR code. */
export const verificationUrlOf = (publicUrl: string, code: string) =>
  `${publicUrl.replace(/\/$/, '')}/api/v1/verification/${code}`;

const PAID_LEAVE: Record<NonNullable<Contrat['versement_conges_payes']>, string> = {
  juin: 'en une fois, au mois de juin',
  prise_principale: 'lors de la prise principale des congés',
  au_fur_et_a_mesure: 'au fur et à mesure de la prise des congés',
};

const hours = (value: number) => `${value.toFixed(2).replace('.', ',')} h`;
const name = (p: { prenom: string; nom: string }) => `${p.prenom} ${p.nom}`;
/** Name, address, phone and e-mail on one line, those known. */
const contact = (p: Person) => [name(p), p.adresse, p.telephone, p.email].filter(Boolean).join(' — ');

const SIGNER_ROLE = { parent: 'le parent employeur', assistante_maternelle: 'l’assistante maternelle' } as const;

/**
 * The contract as a PDF (ptitspas-evolutions.md, Contrats): every mention a childminding contract
 * must carry (CCN 3239 art. 93 and annexe 4: the parties, the agreement, the child, the dates and
 * trial period, the schedule, the pay and its mensualisation, the allowances, the paid-leave mode,
 * the place of care, the signatures with their dates) and the verification block. `draft` marks it
 * « BROUILLON » (before the last signature).
 */
export function renderContrat(
  contrat: Contrat,
  parties: ContratParties,
  verificationUrl: string,
  {
    draft,
    creationDate,
    onIssued,
  }: { draft: boolean; creationDate?: Date; onIssued?: (issued: Issued) => Promise<void> },
) {
  const { employeur, assistante, enfant } = parties;
  const info: DocumentInfo = {
    title: `Contrat de travail — accueil de ${name(enfant)}`,
    author: name(employeur),
    subject: 'Contrat de travail d’assistant maternel agréé (CCN IDCC 3239)',
    creationDate,
  };
  return renderPdf(
    info,
    (doc) => {
      heading(
        doc,
        `Contrat de travail à durée ${contrat.type_contrat === 'cdi' ? 'indéterminée' : 'déterminée'}`,
        'Assistant maternel agréé — Convention collective nationale de la branche du secteur des particuliers employeurs et de l’emploi à domicile (IDCC 3239)',
      );
      if (draft) draftMark(doc);
      verificationFooter(doc, { code: groupedCode(contrat.code_verification), url: verificationUrl });

      section(doc, 'Entre les parties');
      fields(doc, [
        ['Employeur (parent)', contact(employeur)],
        ['Salariée (assistante maternelle)', contact(assistante)],
        ['Agrément', `n° ${assistante.numero_agrement}, délivré le ${frenchDate(assistante.date_agrement)}`],
      ]);

      section(doc, 'Enfant accueilli');
      fields(doc, [
        ['Enfant', name(enfant)],
        ['Né(e) le', frenchDate(enfant.date_naissance)],
        ['Lieu d’accueil', contrat.lieu_accueil],
      ]);

      section(doc, 'Durée');
      fields(doc, [
        ['Type de contrat', contrat.type_contrat === 'cdi' ? 'CDI' : 'CDD'],
        ['Date de début', frenchDate(contrat.date_debut)],
        ['Date de fin', contrat.date_fin ? frenchDate(contrat.date_fin) : null],
        [
          'Période d’essai',
          contrat.periode_essai_jours ? `${contrat.periode_essai_jours} jours calendaires` : 'aucune',
        ],
      ]);

      section(doc, 'Horaires d’accueil (planning hebdomadaire)');
      table(doc, [120, 90, 90], [['Jour', 'Début', 'Fin'], ...contrat.planning.map((c) => [c.jour, c.debut, c.fin])]);

      section(doc, 'Rémunération (mensualisation)');
      fields(doc, [
        [
          'Année',
          contrat.annee_complete
            ? 'complète (52 semaines)'
            : `incomplète (${contrat.semaines_programmees} semaines programmées)`,
        ],
        ['Heures par semaine', hours(contrat.heures_hebdo)],
        ['Dont heures majorées (au-delà de 45 h)', hours(contrat.heures_majorees_hebdo)],
        ['Heures mensualisées', hours(contrat.heures_mensualisees)],
        ['Taux horaire brut', euros(contrat.taux_horaire_brut)],
        [
          'Majoration des heures majorées',
          contrat.majoration_heures_majorees === null ? null : `${contrat.majoration_heures_majorees} %`,
        ],
        ['Salaire mensuel brut', euros(contrat.salaire_mensuel_brut)],
        ['Jour de paiement', `le ${contrat.jour_paiement} de chaque mois`],
      ]);
      paragraph(
        doc,
        `Salaire mensuel brut = heures par semaine × ${contrat.semaines_programmees} semaines ÷ 12 × taux horaire, les heures au-delà de 45 par semaine étant majorées.`,
      );

      section(doc, 'Indemnités');
      fields(doc, [
        ['Indemnité d’entretien', `${euros(contrat.indemnite_entretien_jour)} par jour d’accueil`],
        [
          'Indemnité de repas',
          contrat.indemnite_repas_jour === null ? null : `${euros(contrat.indemnite_repas_jour)} par jour`,
        ],
      ]);

      section(doc, 'Congés payés');
      paragraph(
        doc,
        contrat.annee_complete
          ? 'Année complète : les congés payés sont rémunérés par le maintien du salaire mensualisé pendant leur prise.'
          : `Année incomplète : les congés payés s’ajoutent au salaire mensualisé et sont versés ${PAID_LEAVE[contrat.versement_conges_payes!]}.`,
      );

      section(doc, 'Signatures');
      const signers = contrat.signatures.map(
        (s) =>
          `Signé électroniquement par ${SIGNER_ROLE[s.role as keyof typeof SIGNER_ROLE] ?? s.role}, ${s.par === contrat.id_parent_employeur ? name(employeur) : name(assistante)}, le ${frenchDate(new Date(s.le))} à ${frenchTime(new Date(s.le))}`,
      );
      paragraph(doc, signers.length > 0 ? signers.join('\n') : 'Pas encore signé.');
    },
    onIssued,
  );
}
