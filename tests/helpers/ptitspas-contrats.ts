import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import type { PtitsPasAccount } from './ptitspas.js';

/** Today in Paris, as the contracts' rules read it. */
export const parisToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());

/** Monday to Friday, 8:00 to 17:00: 45 hours a week, 9 hours a day. */
export const WEEK = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi'].map((jour) => ({
  jour,
  debut: '08:00',
  fin: '17:00',
}));

/** A valid POST /contrats body: a CDI from today, full year, 4,00 € an hour (780,00 € a month). */
export const contratTerms = (idEnfant: string, idAssistante: string, extra: Record<string, unknown> = {}) => ({
  id_enfant: idEnfant,
  id_assistante_maternelle: idAssistante,
  type_contrat: 'cdi',
  date_debut: parisToday(),
  periode_essai_jours: 30,
  annee_complete: true,
  planning: WEEK,
  taux_horaire_brut: 4,
  indemnite_entretien_jour: 4,
  indemnite_repas_jour: 3.5,
  jour_paiement: 5,
  lieu_accueil: 'Domicile de l’assistante maternelle',
  ...extra,
});

async function step(app: App, who: PtitsPasAccount, id: string, action: 'proposer' | 'signer') {
  const res = await app.inject({ method: 'PATCH', url: `/api/v1/contrats/${id}/${action}`, headers: who.headers });
  expect(res.statusCode, res.body).toBe(200);
}

/**
 * A contract of `parent` (the employer) with `assistante` for the child `idEnfant`, brought to
 * `statut` through the API: proposed, then signed by her first and by the parent last.
 */
export async function contratIn(
  app: App,
  { parent, assistante, idEnfant }: { parent: PtitsPasAccount; assistante: PtitsPasAccount; idEnfant: string },
  statut: 'brouillon' | 'propose' | 'signe',
): Promise<{ id: string; code_verification: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/contrats',
    headers: parent.headers,
    payload: contratTerms(idEnfant, assistante.id),
  });
  expect(res.statusCode, res.body).toBe(201);
  const { id, code_verification } = res.json();
  if (statut !== 'brouillon') await step(app, parent, id, 'proposer');
  if (statut === 'signe') {
    await step(app, assistante, id, 'signer');
    await step(app, parent, id, 'signer');
  }
  return { id, code_verification };
}
