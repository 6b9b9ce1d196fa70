import { describe, expect, it } from 'vitest';
import {
  minimumEntretien,
  minimumEntretienDisplayed,
  minimumHourlyRate,
} from '../../domain/ptitspas/contrats/minimums.js';
import {
  type Creneau,
  computePay,
  type Jour,
  longestDayMinutes,
  planningErrors,
} from '../../domain/ptitspas/contrats/pay.js';

/** A planning of `days` days (lundi first) from `debut` to `fin` each. */
const everyDay = (days: number, debut: string, fin: string): Creneau[] =>
  (['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'] as Jour[])
    .slice(0, days)
    .map((jour) => ({ jour, debut, fin }));

/** A week of exactly `hours` hours: 5 days of hours/5 (whole minutes). */
const weekOf = (hours: number): Creneau[] => {
  const minutes = (hours * 60) / 5;
  const fin = `${String(8 + Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return everyDay(5, '08:00', fin);
};

// Worked examples published by others (docs/ptitspas.md, "Contrats: pay", has each source and
// quote), and the figure this module gives. Where a source rounds differently, the test says so.
describe('mensualisation, on published worked examples', () => {
  it.each([
    {
      source:
        'RAMIP04 (Relais petite enfance 04): 52 weeks, 22 h, 3.50 € → "333,66" (exact 333.666…, the source truncates)',
      input: { planning: weekOf(22), anneeComplete: true, tauxHoraireBrut: 3.5 },
      pay: { semaines_programmees: 52, heures_hebdo: 22, heures_mensualisees: 95.33, salaire_mensuel_brut: 333.67 },
    },
    {
      source: 'UNSA PROASSMAT guide, tome 2 p. 78: 45 weeks, 40 h, 3 € → 450 €',
      input: { planning: weekOf(40), anneeComplete: false, semainesProgrammees: 45, tauxHoraireBrut: 3 },
      pay: { semaines_programmees: 45, heures_hebdo: 40, heures_mensualisees: 150, salaire_mensuel_brut: 450 },
    },
    {
      source: 'info-tpe.fr: 44 weeks, 26 h, 3 € → 286 € (its "95.55 h" is a typo for 95.33)',
      input: { planning: weekOf(26), anneeComplete: false, semainesProgrammees: 44, tauxHoraireBrut: 3 },
      pay: { semaines_programmees: 44, heures_hebdo: 26, heures_mensualisees: 95.33, salaire_mensuel_brut: 286 },
    },
    {
      source: 'assistantes-maternelles.net forum (unofficial): 44 weeks, 30 h, 5 € → 550 €, 110 h',
      input: {
        planning: everyDay(4, '08:00', '15:30'),
        anneeComplete: false,
        semainesProgrammees: 44,
        tauxHoraireBrut: 5,
      },
      pay: { semaines_programmees: 44, heures_hebdo: 30, heures_mensualisees: 110, salaire_mensuel_brut: 550 },
    },
    {
      source: 'devenir-assistante-maternelle.fr (unofficial): 52 weeks, 45 h, 2.65 € → 516.75 €',
      input: { planning: weekOf(45), anneeComplete: true, tauxHoraireBrut: 2.65 },
      pay: { semaines_programmees: 52, heures_hebdo: 45, heures_mensualisees: 195, salaire_mensuel_brut: 516.75 },
    },
    {
      source: 'lassmat.fr: 52 weeks, 40 h (8 h × 5), 3 € → 520 €',
      input: { planning: everyDay(5, '08:00', '16:00'), anneeComplete: true, tauxHoraireBrut: 3 },
      pay: { semaines_programmees: 52, heures_hebdo: 40, heures_mensualisees: 173.33, salaire_mensuel_brut: 520 },
    },
  ])('$source', ({ input, pay }) => {
    expect(computePay(input)).toEqual({ ...pay, heures_majorees_hebdo: 0 });
  });
});

describe('mensualisation, the rules themselves', () => {
  it.each([
    {
      what: 'a full year ignores the weeks sent',
      input: { planning: weekOf(40), anneeComplete: true, semainesProgrammees: 30, tauxHoraireBrut: 3.64 },
      pay: {
        semaines_programmees: 52,
        heures_hebdo: 40,
        heures_majorees_hebdo: 0,
        heures_mensualisees: 173.33,
        salaire_mensuel_brut: 630.93,
      },
    },
    {
      what: 'an incomplete year of 44 weeks (paid leave on top, not in the salary)',
      input: { planning: weekOf(30), anneeComplete: false, semainesProgrammees: 44, tauxHoraireBrut: 3.64 },
      pay: {
        semaines_programmees: 44,
        heures_hebdo: 30,
        heures_majorees_hebdo: 0,
        heures_mensualisees: 110,
        salaire_mensuel_brut: 400.4,
      },
    },
    {
      what: '48 h a week: 45 at the rate, 3 at +10 %, both mensualised (780.00 + 57.20)',
      input: {
        planning: everyDay(6, '08:00', '16:00'),
        anneeComplete: true,
        tauxHoraireBrut: 4,
        majorationHeuresMajorees: 10,
      },
      pay: {
        semaines_programmees: 52,
        heures_hebdo: 48,
        heures_majorees_hebdo: 3,
        heures_mensualisees: 208,
        salaire_mensuel_brut: 837.2,
      },
    },
    {
      what: '46 h 20 a week at +25 %, 40 weeks: fractions of an hour and of a cent, rounded once',
      input: {
        planning: [...everyDay(5, '08:00', '17:16')],
        anneeComplete: false,
        semainesProgrammees: 40,
        tauxHoraireBrut: 3.71,
        majorationHeuresMajorees: 25,
      },
      // 46 h 20 min: 45 h × 3.71 + 1 h 20 × 4.6375, × 40 / 12 = 556.5 + 20.6111… = 577.111… → 577.11
      pay: {
        semaines_programmees: 40,
        heures_hebdo: 46.33,
        heures_majorees_hebdo: 1.33,
        heures_mensualisees: 154.44,
        salaire_mensuel_brut: 577.11,
      },
    },
    {
      what: 'half a cent rounds up: 1 h a week, 6 weeks, 3.65 € → 1.825 € → 1.83 €',
      input: {
        planning: [{ jour: 'lundi' as const, debut: '08:00', fin: '09:00' }],
        anneeComplete: false,
        semainesProgrammees: 6,
        tauxHoraireBrut: 3.65,
      },
      pay: {
        semaines_programmees: 6,
        heures_hebdo: 1,
        heures_majorees_hebdo: 0,
        heures_mensualisees: 0.5,
        salaire_mensuel_brut: 1.83,
      },
    },
  ])('$what', ({ input, pay }) => {
    expect(computePay(input)).toEqual(pay);
  });

  it('adds up several stretches of one day, and finds the longest day', () => {
    const planning: Creneau[] = [
      { jour: 'lundi', debut: '07:30', fin: '12:00' },
      { jour: 'lundi', debut: '13:30', fin: '18:45' },
      { jour: 'mardi', debut: '08:00', fin: '17:00' },
    ];
    expect(planningErrors(planning)).toEqual([]);
    expect(longestDayMinutes(planning)).toBe(4 * 60 + 30 + 5 * 60 + 15);
    expect(computePay({ planning, anneeComplete: true, tauxHoraireBrut: 4 }).heures_hebdo).toBe(18.75);
  });

  it('names what is wrong with a planning, in French', () => {
    expect(
      planningErrors([
        { jour: 'lundi', debut: '08:00', fin: '12:00' },
        { jour: 'lundi', debut: '11:00', fin: '13:00' },
        { jour: 'mardi', debut: '12:00', fin: '08:00' },
        { jour: 'mercredi', debut: '8h', fin: '12:00' },
        { jour: 'jeudi', debut: '24:00', fin: '25:00' },
      ]),
    ).toEqual([
      'mardi : la fin (08:00) doit suivre le début (12:00)',
      'mercredi : heures attendues au format HH:MM',
      'jeudi : heures attendues au format HH:MM',
      'lundi : deux créneaux se chevauchent',
    ]);
  });
});

describe('the minimums in force on date_debut', () => {
  it.each([
    // [date, minimum, legal (0.281 × SMIC, rounded as published), conventional (CCN annexe 5)]
    ['2024-01-15', 3.43, 3.27, 3.43],
    ['2024-02-01', 3.45, 3.27, 3.45],
    ['2024-06-01', 3.5, 3.27, 3.5],
    ['2024-11-01', 3.5, 3.34, 3.5],
    ['2025-03-31', 3.5, 3.34, 3.5],
    ['2025-04-01', 3.64, 3.34, 3.64],
    ['2026-01-01', 3.64, 3.38, 3.64],
    ['2026-12-06', 3.64, 3.38, 3.64],
  ])('hourly rate on %s: %s € (legal %s, conventional %s)', (date, value, legal, conventional) => {
    expect(minimumHourlyRate(date)).toMatchObject({ value, legal, conventional });
  });

  it('covers nothing before 2024: no minimum is guessed', () => {
    expect(minimumHourlyRate('2023-12-31')).toBeUndefined();
    expect(minimumEntretien('2023-12-31', 540)).toBeUndefined();
  });

  it.each([
    // [date, minutes of the longest day, published minimum]
    ['2024-03-01', 9 * 60, 3.74],
    ['2024-11-01', 9 * 60, 3.8],
    ['2026-01-01', 9 * 60, 3.83],
    ['2026-02-01', 10 * 60, 4.25],
    ['2026-02-01', 5 * 60, 2.65],
  ])('maintenance allowance on %s for %s minutes: %s € at least', (date, minutes, shown) => {
    expect(minimumEntretienDisplayed(date, minutes)).toBe(shown);
  });

  it('compares an allowance with the exact minimum (3.825 € for 9 h in 2026): 3.82 is below, 3.83 is not', () => {
    const exact = minimumEntretien('2026-01-01', 9 * 60)!;
    expect(exact).toBeCloseTo(3.825, 10);
    expect(3.82 < exact).toBe(true);
    expect(3.83 < exact).toBe(false);
  });
});
