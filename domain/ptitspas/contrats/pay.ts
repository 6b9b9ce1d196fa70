/**
 * The pay of a childminding contract, as the spec (ptitspas-evolutions.md, Contrats) and the
 * convention collective (CCN 3239, art. 109) compute it: pure, no database, every figure from
 * the planning and the rates. Sources and worked examples: docs/ptitspas.md, "Contrats: pay".
 *
 * Exact arithmetic: minutes and cents are integers, and each published figure is rounded once,
 * half up, from the exact value (never from another rounded figure).
 */

const JOURS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'] as const;
export type Jour = (typeof JOURS)[number];

/** One stretch of care: `debut` and `fin` are "HH:MM" of the same day. */
export interface Creneau {
  jour: Jour;
  debut: string;
  fin: string;
}

/** The conventional weekly working time (CCN art. 96.2): the hours beyond are "heures majorées". */
const HEURES_CONVENTIONNELLES = 45;
/** A full year of care (CCN art. 109.1); an incomplete year is 46 programmed weeks at most (art. 109.2). */
const SEMAINES_ANNEE_COMPLETE = 52;

const minutesOf = (time: string) => {
  const [h, m] = time.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** What is wrong with a planning, in French, or an empty list: times, order, overlaps in a day. */
export function planningErrors(planning: readonly Creneau[]): string[] {
  const errors: string[] = [];
  const byDay = new Map<Jour, Array<[number, number]>>();
  for (const { jour, debut, fin } of planning) {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(debut) || !/^([01]\d|2[0-3]):[0-5]\d$/.test(fin)) {
      errors.push(`${jour} : heures attendues au format HH:MM`);
      continue;
    }
    const [start, end] = [minutesOf(debut), minutesOf(fin)];
    if (end <= start) errors.push(`${jour} : la fin (${fin}) doit suivre le début (${debut})`);
    else byDay.set(jour, [...(byDay.get(jour) ?? []), [start, end]]);
  }
  for (const [jour, spans] of byDay) {
    const sorted = spans.sort((a, b) => a[0] - b[0]);
    if (sorted.some(([start], i) => i > 0 && start < sorted[i - 1]![1])) {
      errors.push(`${jour} : deux créneaux se chevauchent`);
    }
  }
  return errors;
}

/** Minutes of care in the week. */
export const weeklyMinutes = (planning: readonly Creneau[]) =>
  planning.reduce((sum, { debut, fin }) => sum + minutesOf(fin) - minutesOf(debut), 0);

/** Minutes of care of the longest day (what the daily maintenance allowance is checked against). */
export function longestDayMinutes(planning: readonly Creneau[]): number {
  const days = new Map<Jour, number>();
  for (const { jour, debut, fin } of planning)
    days.set(jour, (days.get(jour) ?? 0) + minutesOf(fin) - minutesOf(debut));
  return Math.max(0, ...days.values());
}

/** `numerator / denominator` rounded half up (both positive integers). */
const divideRounded = (numerator: number, denominator: number) =>
  Math.floor((2 * numerator + denominator) / (2 * denominator));

/** Euros to integer cents, and a count of hundredths (hours, percents) to an integer, exactly. */
const hundredths = (value: number) => Math.round(value * 100);

export interface PayInput {
  planning: readonly Creneau[];
  anneeComplete: boolean;
  /** Ignored for a full year (52); 1–46 otherwise. */
  semainesProgrammees?: number;
  tauxHoraireBrut: number;
  /** Percent added to the hours beyond 45 a week (CCN minimum 10). */
  majorationHeuresMajorees?: number;
}

export interface Pay {
  semaines_programmees: number;
  heures_hebdo: number;
  heures_majorees_hebdo: number;
  heures_mensualisees: number;
  salaire_mensuel_brut: number;
}

/**
 * The mensualisation (CCN art. 109): hours a week × weeks / 12 each month, whatever the month.
 * The hours up to 45 a week are paid at `tauxHoraireBrut`, those beyond at the rate increased by
 * `majorationHeuresMajorees` percent, both mensualised. Hours are given to the hundredth and the
 * salary to the cent, each rounded half up from the exact value.
 */
export function computePay(input: PayInput): Pay {
  const weeks = input.anneeComplete ? SEMAINES_ANNEE_COMPLETE : input.semainesProgrammees!;
  const minutes = weeklyMinutes(input.planning);
  const beyond = Math.max(0, minutes - HEURES_CONVENTIONNELLES * 60);
  const rate = hundredths(input.tauxHoraireBrut); // cents an hour
  const majoration = hundredths(input.majorationHeuresMajorees ?? 0); // hundredths of a percent
  // Cents a month × 60 min × 12 months × 10,000 (the majoration's scale), all integers.
  const scaled = rate * (minutes - beyond) * weeks * 10_000 + rate * (10_000 + majoration) * beyond * weeks;
  return {
    semaines_programmees: weeks,
    heures_hebdo: divideRounded(minutes * 100, 60) / 100,
    heures_majorees_hebdo: divideRounded(beyond * 100, 60) / 100,
    heures_mensualisees: divideRounded(minutes * weeks * 100, 60 * 12) / 100,
    salaire_mensuel_brut: divideRounded(scaled, 60 * 12 * 10_000) / 100,
  };
}
