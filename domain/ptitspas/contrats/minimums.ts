/**
 * The legal and conventional minimums a childminding contract's pay must meet, as dated values
 * with their sources (docs/ptitspas.md, "Contrats: pay", has the quotes). A value applies from its
 * date until the next one of its series. Confirmed up to the values in force on 1 January 2026;
 * a later revaluation (SMIC, minimum garanti, CCN annexe 5) must be added here with its source.
 */

interface Dated {
  from: string;
  value: number;
  source: string;
}

/** SMIC horaire brut (metropolitan France and the DOM except Mayotte). */
const SMIC_HORAIRE: readonly Dated[] = [
  { from: '2024-01-01', value: 11.65, source: 'Décret n° 2023-1216 du 20 décembre 2023' },
  { from: '2024-11-01', value: 11.88, source: 'Décret n° 2024-951 du 23 octobre 2024 (JORFTEXT000050392683)' },
  { from: '2026-01-01', value: 12.02, source: 'Décret n° 2025-1228 du 17 décembre 2025' },
];

/** Minimum garanti (Code du travail, art. L3231-12). */
const MINIMUM_GARANTI: readonly Dated[] = [
  { from: '2024-01-01', value: 4.15, source: 'Décret n° 2023-1216 du 20 décembre 2023' },
  { from: '2024-11-01', value: 4.22, source: 'Décret n° 2024-951 du 23 octobre 2024 (JORFTEXT000050392683)' },
  { from: '2026-01-01', value: 4.25, source: 'Décret n° 2025-1228 du 17 décembre 2025' },
];

/**
 * The conventional minimum hourly wage of an assistant maternel (CCN 3239, art. 107 and annexe 5),
 * without the +4 % of holders of the "assistant maternel – garde d'enfants" title, which the API
 * does not record.
 */
const MINIMUM_CONVENTIONNEL: readonly Dated[] = [
  { from: '2024-01-01', value: 3.43, source: 'CCN 3239 annexe 5, avenants before n° 7 (3,43 € until 31 January 2024)' },
  {
    from: '2024-02-01',
    value: 3.45,
    source: 'CCN 3239 annexe 5, avenant n° 7 du 16 octobre 2023 (arrêté du 15 janvier 2024)',
  },
  { from: '2024-05-01', value: 3.5, source: 'CCN 3239 annexe 5 (avenant number not confirmed)' },
  { from: '2025-04-01', value: 3.64, source: 'CCN 3239 annexe 5, avenant n° 9 du 25 novembre 2024' },
];

/** The legal minimum is 0.281 × SMIC horaire per hour and per child (CASF art. D423-9). */
const LEGAL_SHARE_OF_SMIC = 0.281;
/** The daily maintenance allowance: at least 90 % of the minimum garanti for 9 hours, pro rata, never below 2.65 € (CCN art. 114.1). */
const ENTRETIEN_SHARE_OF_MG = 0.9;
const ENTRETIEN_HOURS = 9;
const ENTRETIEN_FLOOR = 2.65;

/** The value of `series` in force on `date` (YYYY-MM-DD); undefined before the first. */
function inForce(series: readonly Dated[], date: string): Dated | undefined {
  return series.findLast((entry) => entry.from <= date);
}

/** Rounded half up to the cent, as the published amounts are (3.27365 → 3.27; 3.825 → 3.83). */
const toCent = (euros: number) => Math.round(euros * 100 + 1e-9) / 100;

export interface HourlyMinimum {
  /** The higher of the legal and the conventional minimum, euros an hour. */
  value: number;
  legal: number;
  conventional: number;
  sources: string[];
}

/**
 * The minimum gross hourly wage on `date`: the higher of 0.281 × SMIC (CASF art. D423-9) and the
 * CCN 3239 minimum (annexe 5). Undefined before 2024, which the table does not cover.
 */
export function minimumHourlyRate(date: string): HourlyMinimum | undefined {
  const smic = inForce(SMIC_HORAIRE, date);
  const ccn = inForce(MINIMUM_CONVENTIONNEL, date);
  if (!smic || !ccn) return undefined;
  const legal = toCent(LEGAL_SHARE_OF_SMIC * smic.value);
  return {
    value: Math.max(legal, ccn.value),
    legal,
    conventional: ccn.value,
    sources: [`CASF art. D423-9 × SMIC (${smic.source})`, ccn.source],
  };
}

/**
 * The minimum daily maintenance allowance on `date` for a day of `minutes` of care: 90 % of the
 * minimum garanti for 9 hours, pro rata, never below 2.65 €. Exact (not rounded): an allowance is
 * refused when it is below it. Undefined before 2024.
 */
export function minimumEntretien(date: string, minutes: number): number | undefined {
  const mg = inForce(MINIMUM_GARANTI, date);
  if (!mg) return undefined;
  return Math.max(ENTRETIEN_FLOOR, (ENTRETIEN_SHARE_OF_MG * mg.value * minutes) / (ENTRETIEN_HOURS * 60));
}

/** The same, rounded to the cent as published (3.83 € for 9 hours in 2026), for display. */
export const minimumEntretienDisplayed = (date: string, minutes: number) => {
  const exact = minimumEntretien(date, minutes);
  return exact === undefined ? undefined : toCent(exact);
};
