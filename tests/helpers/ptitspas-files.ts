import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { multipart } from './multipart.js';
import type { PtitsPasAccount } from './ptitspas.js';

/** The smallest file file-type reads as a PDF. */
export const PDF = Buffer.from('%PDF-1.4\n% carnet de vaccination\n');

export interface UploadOptions {
  categorie?: string;
  idEnfant?: string;
  filename?: string;
  data?: Buffer;
  contentType?: string;
}

/** POST /api/v1/uploads as `who`; the raw answer. */
export function postUpload(app: App, who: PtitsPasAccount, options: UploadOptions = {}) {
  const form = multipart({
    categorie: options.categorie ?? 'carnet_vaccination',
    ...(options.idEnfant ? { id_enfant: options.idEnfant } : {}),
    fichier: {
      filename: options.filename ?? 'carnet.pdf',
      contentType: options.contentType ?? 'application/pdf',
      data: options.data ?? PDF,
    },
  });
  return app.inject({
    method: 'POST',
    url: '/api/v1/uploads',
    headers: { ...who.headers, ...form.headers },
    payload: form.payload,
  });
}

/** An upload by `who`, which must succeed; its id. */
export async function uploaded(app: App, who: PtitsPasAccount, options: UploadOptions = {}): Promise<string> {
  const res = await postUpload(app, who, options);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A PUT /dossiers body that may be submitted once a carnet_vaccination is among `pieces`. */
export function completeDossier(pieces: string[] = []) {
  return {
    responsables: [
      {
        prenom: 'Léa',
        nom: 'Dupont',
        lien: 'mere',
        telephone: '0601020304',
        email: 'lea.dupont@example.fr',
        autorite_parentale: true,
      },
    ],
    contacts_urgence: [{ prenom: 'Jean', nom: 'Dupont', lien: 'grand-père', telephone: '0605060708' }],
    personnes_autorisees: [{ prenom: 'Marc', nom: 'Durand', lien: 'voisin', telephone: '0611223344' }],
    sante: {
      medecin_traitant: { nom: 'Dr Martin', telephone: '0140506070' },
      allergies: ['arachide'],
      regime_alimentaire: null,
      pai: false,
      vaccinations: [{ vaccin: 'DTP', date: '2021-02-01' }],
      traitement_en_cours: null,
    },
    autorisations: { soins_urgence: true, administration_medicaments: true, droit_image: false, sorties: true },
    pieces,
  };
}

/**
 * A child of `parent` whose dossier is complete, in state `brouillon` or `soumis` (submitted by
 * `parent`); its id.
 */
export async function childWithDossier(
  app: App,
  parent: PtitsPasAccount,
  statut: 'brouillon' | 'soumis',
): Promise<string> {
  const child = await app.inject({
    method: 'POST',
    url: '/api/v1/enfants',
    headers: parent.headers,
    payload: { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2021-01-15' },
  });
  expect(child.statusCode, child.body).toBe(201);
  const id = child.json().id as string;
  const carnet = await uploaded(app, parent, { idEnfant: id });
  const put = await app.inject({
    method: 'PUT',
    url: `/api/v1/dossiers/${id}`,
    headers: parent.headers,
    payload: completeDossier([carnet]),
  });
  expect(put.statusCode, put.body).toBe(200);
  if (statut === 'soumis') {
    const submitted = await app.inject({
      method: 'PATCH',
      url: `/api/v1/dossiers/${id}/soumettre`,
      headers: parent.headers,
    });
    expect(submitted.statusCode, submitted.body).toBe(200);
  }
  return id;
}
