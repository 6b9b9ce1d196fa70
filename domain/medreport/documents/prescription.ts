import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import { fields, frenchDate, paragraph, renderPdf, section, signatureBox } from '../../shared/documents/pdf.js';
import { issuePdf, type PdfRequest, type RenderOptions } from './issues.js';
import { PARTY_COLUMNS, type Patient, type Practitioner, partiesOf, practiceHeader } from './practice.js';

/** Everything an ordonnance prints. */
export interface PrescriptionDocument {
  verification_code: string;
  practice: string;
  practitioner: Practitioner;
  patient: Patient;
  prescription: {
    medication: string;
    dosage: string | null;
    duration: string | null;
    notes: string | null;
    validity_period: number | null;
    date_issued: string;
  };
}

/**
 * The live prescription `uuid` of the handle's organization with its practice, prescriber and
 * patient (a deleted patient's prescriptions are kept, and printed); NotFound as for its JSON.
 */
export async function loadPrescription(db: Kysely<Database>, uuid: string): Promise<PrescriptionDocument> {
  const row = await db
    .selectFrom('medreport.prescriptions as r')
    // The patient of the same organization (uuids are unique per organization only).
    .innerJoin('medreport.patients as p', (join) =>
      join.onRef('p.organization_id', '=', 'r.organization_id').onRef('p.uuid', '=', 'r.patient_uuid'),
    )
    // The prescriber as they are now, even if they have left the organization since.
    .innerJoin('medreport.users as u', 'u.uuid', 'r.doctor_uuid')
    .innerJoin('medreport.organizations as o', 'o.id', 'r.organization_id')
    .select(PARTY_COLUMNS)
    .select([
      'r.verification_code',
      'r.medication',
      'r.dosage',
      'r.duration',
      'r.notes',
      'r.validity_period',
      'r.date_issued',
    ])
    .where('r.uuid', '=', uuid)
    .where('r.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFound('Prescription introuvable.');
  const { verification_code, medication, dosage, duration, notes, validity_period, date_issued } = row;
  return {
    verification_code,
    ...partiesOf(row),
    prescription: { medication, dosage, duration, notes, validity_period, date_issued },
  };
}

/**
 * The prescription as a French ordonnance (mentions of art. R. 5132-3 of the public health code
 * that are stored: the prescriber's identity, qualification, order number and contact, the
 * patient's name, sex and birth date, the date, the treatment with its dosage and duration, the
 * prescriber's signature), with the verification footer on its first page.
 */
export function renderPrescription(data: PrescriptionDocument, options: RenderOptions) {
  const { practitioner, patient, prescription } = data;
  return renderPdf(
    {
      title: `Ordonnance — ${patient.name}`,
      author: practitioner.name,
      subject: `Ordonnance du ${frenchDate(prescription.date_issued)}`,
      creationDate: options.creationDate,
    },
    (doc) => {
      practiceHeader(doc, 'Ordonnance', data, options.verificationUrl);

      doc.moveDown(0.6);
      fields(doc, [['Fait le', frenchDate(prescription.date_issued)]]);

      section(doc, 'Prescription');
      doc.font('bold').fontSize(11).text(prescription.medication).font('regular').fontSize(10);
      fields(doc, [
        ['Posologie', prescription.dosage],
        ['Durée du traitement', prescription.duration],
      ]);
      const days = prescription.validity_period;
      if (days !== null) {
        fields(doc, [
          [
            'Validité de l’ordonnance',
            `${days} jour${days > 1 ? 's' : ''} à compter du ${frenchDate(prescription.date_issued)}`,
          ],
        ]);
      }
      if (prescription.notes) {
        doc.moveDown(0.3);
        paragraph(doc, prescription.notes);
      }

      signatureBox(doc, 'Signature du prescripteur');
    },
    options.onIssued,
  );
}

/** The ordonnance of the live prescription `uuid`, streamed, and kept as its last issue (issues.ts). */
export async function prescriptionPdf(db: Kysely<Database>, uuid: string, request: PdfRequest) {
  const data = await loadPrescription(db, uuid);
  const stream = issuePdf(db, 'prescription', uuid, request, (options) => renderPrescription(data, options));
  return { stream, filename: `ordonnance-${data.prescription.date_issued}.pdf` };
}
