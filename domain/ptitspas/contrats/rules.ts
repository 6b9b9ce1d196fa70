import { isForeignKeyViolation } from '../../../db/errors.js';
import { Conflict, type FieldErrors, Invalid } from '../../errors.js';
import { minimumEntretien, minimumEntretienDisplayed, minimumHourlyRate } from './minimums.js';
import type { Terms } from './model.js';
import { computePay, longestDayMinutes, type Pay, planningErrors, weeklyMinutes } from './pay.js';

/**
 * A contract's terms as the rules check them (docs/ptitspas.md, Contrats): each refusal is a 400
 * naming its field in French. Pure: what needs the database (the employer is a parent of the
 * child, the childminder is active, the family already employs her) is given.
 */

export const CONTRAT_NOT_FOUND = 'Contrat non trouvé';

/** The highest number of programmed weeks of an incomplete year (CCN 3239, art. 109.2). */
const SEMAINES_ANNEE_INCOMPLETE_MAX = 46;

/** `date` (YYYY-MM-DD) plus `months` calendar months, the day kept or the month's last day. */
function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const lastDay = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m - 1 + months, Math.min(d, lastDay))).toISOString().slice(0, 10);
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const hasCents = (euros: number) => Math.abs(euros * 100 - Math.round(euros * 100)) < 1e-6;

/**
 * The longest trial a contract may have (CCN 3239, art. 44 for a CDI; the spec applies the same
 * limits to a CDD, where it is silent): 3 months for 1 to 3 days of care a week, 2 months for 4 or
 * more, 30 days when the family already employs her for another child. As the last day allowed.
 */
function trialLimit(terms: Terms, employsForAnotherChild: boolean) {
  if (employsForAnotherChild) return { until: addDays(terms.date_debut, 30), label: '30 jours' };
  const days = new Set(terms.planning.map((c) => c.jour)).size;
  return days <= 3
    ? { until: addMonths(terms.date_debut, 3), label: '3 mois (1 à 3 jours par semaine)' }
    : { until: addMonths(terms.date_debut, 2), label: '2 mois (4 jours ou plus par semaine)' };
}

const euros = (value: number) => `${value.toFixed(2).replace('.', ',')} €`;

/**
 * Checks `terms` and computes the pay (pay.ts); throws Invalid with every refusal, each under its
 * field. `employsForAnotherChild`: the family has a signed contract with her for another child.
 */
export function checkedPay(terms: Terms, employsForAnotherChild: boolean): Pay {
  const errors: FieldErrors = {};
  const refuse = (field: string, message: string) => {
    errors[field] = [...(errors[field] ?? []), message];
  };

  const planning = planningErrors(terms.planning);
  for (const message of planning) refuse('planning', message);

  if (terms.type_contrat === 'cdd' && !terms.date_fin) refuse('date_fin', 'Un CDD demande une date de fin.');
  if (terms.date_fin && terms.date_fin < terms.date_debut) {
    refuse('date_fin', 'La date de fin ne peut pas précéder la date de début.');
  }

  if (!terms.annee_complete) {
    if (terms.semaines_programmees === null) {
      refuse('semaines_programmees', 'En année incomplète, le nombre de semaines programmées est obligatoire.');
    } else if (terms.semaines_programmees > SEMAINES_ANNEE_INCOMPLETE_MAX) {
      refuse('semaines_programmees', 'En année incomplète, 46 semaines programmées au plus.');
    }
    if (terms.versement_conges_payes === null) {
      refuse(
        'versement_conges_payes',
        'En année incomplète, le mode de versement des congés payés est obligatoire (juin, prise_principale ou au_fur_et_a_mesure).',
      );
    }
  }

  for (const field of ['taux_horaire_brut', 'indemnite_entretien_jour', 'indemnite_repas_jour'] as const) {
    const value = terms[field];
    if (value !== null && !hasCents(value)) refuse(field, 'Deux décimales au plus.');
  }

  const minimum = minimumHourlyRate(terms.date_debut);
  if (!minimum) {
    refuse('date_debut', 'Les minimums légaux ne sont connus qu’à partir du 1er janvier 2024.');
  } else if (terms.taux_horaire_brut < minimum.value) {
    refuse(
      'taux_horaire_brut',
      `Le taux horaire brut doit être d’au moins ${euros(minimum.value)} au ${terms.date_debut} (le plus élevé de 0,281 × SMIC et du minimum de la convention collective).`,
    );
  }

  if (planning.length === 0) {
    const longest = longestDayMinutes(terms.planning);
    const floor = minimumEntretien(terms.date_debut, longest);
    if (floor !== undefined && terms.indemnite_entretien_jour < floor - 1e-9) {
      refuse(
        'indemnite_entretien_jour',
        `L’indemnité d’entretien doit être d’au moins ${euros(minimumEntretienDisplayed(terms.date_debut, longest)!)} pour la plus longue journée (${(longest / 60).toFixed(2).replace('.', ',')} h).`,
      );
    }
  }

  if (planning.length === 0 && weeklyMinutes(terms.planning) > 45 * 60 && terms.majoration_heures_majorees === null) {
    refuse(
      'majoration_heures_majorees',
      'Le planning dépasse 45 heures par semaine : la majoration des heures majorées est obligatoire (10 % au moins).',
    );
  }

  if (terms.periode_essai_jours) {
    const limit = trialLimit(terms, employsForAnotherChild);
    if (addDays(terms.date_debut, terms.periode_essai_jours) > limit.until) {
      refuse('periode_essai_jours', `La période d’essai ne peut pas dépasser ${limit.label}.`);
    }
  }

  const fields = Object.keys(errors);
  if (fields.length > 0) {
    throw new Invalid(Object.values(errors).flat().join(' '), errors);
  }
  return computePay({
    planning: terms.planning,
    anneeComplete: terms.annee_complete,
    semainesProgrammees: terms.semaines_programmees ?? undefined,
    tauxHoraireBrut: terms.taux_horaire_brut,
    majorationHeuresMajorees: terms.majoration_heures_majorees ?? undefined,
  });
}

/** Whether `terminer`'s end date may end this contract: not before it began. */
export function assertEndDate(dateDebut: string, dateFin: string) {
  if (dateFin < dateDebut) {
    throw new Invalid('La date de fin ne peut pas précéder la date de début du contrat.', {
      date_fin: ['La date de fin ne peut pas précéder la date de début du contrat.'],
    });
  }
}

/**
 * A contract is an employment record, kept: deleting its child or one of its parties is refused
 * by the foreign keys (migration 0016), and answered 409 here. Rethrows anything else.
 */
export function refuseDeletingUnderContract(err: unknown): never {
  for (const constraint of ['contrats_enfant_fkey', 'contrats_employeur_fkey', 'contrats_assistante_fkey']) {
    if (isForeignKeyViolation(err, constraint)) {
      throw new Conflict(
        'Des contrats le concernent : un contrat de travail est conservé, il ne peut pas être supprimé',
      );
    }
  }
  throw err;
}
