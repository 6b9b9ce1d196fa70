/**
 * `npm run pdf:samples [-- DIR]`: one PDF of each kind the APIs issue, rendered from fixed sample
 * data by the same functions the routes use, into DIR (default `samples/`), so a reader can look
 * at them without a server or a database. The creation date is fixed: the bytes are the same on
 * every run (the documents are deterministic apart from that date).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type InvoiceDocument, renderInvoice } from '../domain/medreport/documents/invoice.js';
import { type PrescriptionDocument, renderPrescription } from '../domain/medreport/documents/prescription.js';
import { type ContratParties, renderContrat } from '../domain/ptitspas/contrats/document.js';
import type { Contrat } from '../domain/ptitspas/contrats/model.js';
import { computePay } from '../domain/ptitspas/contrats/pay.js';

const CREATED = new Date('2026-09-01T08:00:00Z');
const BASE = 'https://api.example.fr';

const planning = (['lundi', 'mardi', 'jeudi', 'vendredi'] as const).map((jour) => ({
  jour,
  debut: '08:15',
  fin: '17:45',
}));
const pay = computePay({ planning, anneeComplete: false, semainesProgrammees: 40, tauxHoraireBrut: 4.1 });
const contrat: Contrat = {
  id: '0192f0a0-0000-7000-8000-000000000001',
  statut: 'signe',
  id_enfant: '0192f0a0-0000-7000-8000-000000000002',
  id_parent_employeur: '0192f0a0-0000-7000-8000-000000000003',
  id_assistante_maternelle: '0192f0a0-0000-7000-8000-000000000004',
  type_contrat: 'cdi',
  date_debut: '2026-09-01',
  date_fin: null,
  periode_essai_jours: 30,
  annee_complete: false,
  versement_conges_payes: 'juin',
  planning,
  taux_horaire_brut: 4.1,
  majoration_heures_majorees: null,
  indemnite_entretien_jour: 4.3,
  indemnite_repas_jour: 4,
  jour_paiement: 5,
  lieu_accueil: '8 rue des Écoles, 69007 Lyon (domicile de l’assistante maternelle)',
  ...pay,
  signatures: [
    { par: '0192f0a0-0000-7000-8000-000000000004', role: 'assistante_maternelle', le: '2026-08-20T16:02:00Z' },
    { par: '0192f0a0-0000-7000-8000-000000000003', role: 'parent', le: '2026-08-21T07:45:00Z' },
  ],
  code_verification: 'K7QZ3M9XTB2W8R4NDJ6H',
  cree_le: '2026-08-18T09:00:00Z',
  modifie_le: '2026-08-21T07:45:00Z',
};
const parties: ContratParties = {
  employeur: {
    prenom: 'Chloé',
    nom: 'Lefèvre',
    adresse: '3 place Bellecour, 69002 Lyon',
    telephone: '0601020304',
    email: 'chloe.lefevre@example.fr',
  },
  assistante: {
    prenom: 'Hélène',
    nom: 'Garçon',
    adresse: '8 rue des Écoles, 69007 Lyon',
    telephone: '0611223344',
    email: 'helene.garcon@example.fr',
    numero_agrement: 'AM-69-2018-0412',
    date_agrement: '2018-09-01',
  },
  enfant: { prenom: 'Noé', nom: 'Lefèvre', date_naissance: '2025-02-14' },
};
const contratUrl = `${BASE}/api/v1/verification/${contrat.code_verification}`;

const practitioner = {
  name: 'Dr Hélène Françoise Bœuf',
  speciality: 'Médecine générale',
  medical_order_number: '10003456789',
  address: '3 place de la Bastille, 75011 Paris',
  phone: '01 45 67 89 01',
};
const patient = {
  name: 'Zoé Lefèvre-Cœur',
  birth_date: '1984-02-29',
  gender: 'female' as const,
  address: '12 rue de l’Église, 75004 Paris',
};
const prescription: PrescriptionDocument = {
  verification_code: '8CZ7Q263FRE16PNZ6DFV',
  practice: 'Cabinet médical Sainte-Cécile',
  practitioner,
  patient,
  prescription: {
    medication: 'Amoxicilline 1 g, comprimés dispersibles — boîte de 12',
    dosage: '1 comprimé matin et soir',
    duration: '6 jours',
    notes: 'À prendre au début du repas. Arrêter et consulter en cas d’éruption cutanée.',
    validity_period: 90,
    date_issued: '2026-09-01',
  },
};
const invoice: InvoiceDocument = {
  uuid: '0192f0a0-0000-7000-8000-000000000010',
  verification_code: 'M3T8W1QZ5KD2R9XBN4HJ',
  practice: prescription.practice,
  practitioner,
  patient,
  invoice: {
    designation: 'Consultation — échographie abdominale',
    unit_price: 5600,
    quantity: 1,
    total_amount: 5600,
    date_issued: '2026-09-01',
  },
};
const medreportUrl = (code: string) => `${BASE}/api/verify/${code}`;

const SAMPLES: Record<string, () => Readable> = {
  'ordonnance.pdf': () => renderPrescription(prescription, { verificationUrl: medreportUrl, creationDate: CREATED }),
  'facture.pdf': () => renderInvoice(invoice, { verificationUrl: medreportUrl, creationDate: CREATED }),
  'contrat-signe.pdf': () => renderContrat(contrat, parties, contratUrl, { draft: false, creationDate: CREATED }),
  'contrat-brouillon.pdf': () =>
    renderContrat({ ...contrat, statut: 'propose', signatures: contrat.signatures.slice(0, 1) }, parties, contratUrl, {
      draft: true,
      creationDate: CREATED,
    }),
};

const dir = path.resolve(process.argv[2] ?? 'samples');
await mkdir(dir, { recursive: true });
for (const [name, render] of Object.entries(SAMPLES)) {
  await pipeline(render(), createWriteStream(path.join(dir, name)));
  console.log(path.join(dir, name));
}
