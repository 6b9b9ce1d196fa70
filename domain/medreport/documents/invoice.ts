import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import { euros, fields, frenchDate, renderPdf, section, table } from '../../shared/documents/pdf.js';
import { issuePdf, type PdfRequest, type RenderOptions } from './issues.js';
import { PARTY_COLUMNS, type Patient, type Practitioner, partiesOf, practiceHeader } from './practice.js';

/** Everything an invoice prints. Amounts are integer cents, as stored. */
export interface InvoiceDocument {
  uuid: string;
  verification_code: string;
  practice: string;
  practitioner: Practitioner;
  patient: Patient;
  invoice: {
    designation: string;
    unit_price: number;
    quantity: number;
    total_amount: number;
    date_issued: string;
  };
}

/** The live invoice `uuid` of the handle's organization with its practice, practitioner and patient; NotFound as for its JSON. */
export async function loadInvoice(db: Kysely<Database>, uuid: string): Promise<InvoiceDocument> {
  const row = await db
    .selectFrom('medreport.invoices as r')
    .innerJoin('medreport.patients as p', (join) =>
      join.onRef('p.organization_id', '=', 'r.organization_id').onRef('p.uuid', '=', 'r.patient_uuid'),
    )
    .innerJoin('medreport.users as u', 'u.uuid', 'r.doctor_uuid')
    .innerJoin('medreport.organizations as o', 'o.id', 'r.organization_id')
    .select(PARTY_COLUMNS)
    .select([
      'r.uuid',
      'r.verification_code',
      'r.designation',
      'r.unit_price',
      'r.quantity',
      'r.total_amount',
      'r.date_issued',
    ])
    .where('r.uuid', '=', uuid)
    .where('r.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFound('Invoice introuvable.');
  const { verification_code, designation, unit_price, quantity, total_amount, date_issued } = row;
  return {
    uuid: row.uuid,
    verification_code,
    ...partiesOf(row),
    invoice: { designation, unit_price, quantity, total_amount, date_issued },
  };
}

const money = (cents: number) => euros(cents, { cents: true });

/**
 * The invoice (« note d’honoraires ») of a consultation or act: the practice and practitioner, the
 * patient, its date and reference, its line with unit price, quantity and total, the total, and
 * the verification footer on its first page. Amounts print in euros: the organization records no currency.
 */
export function renderInvoice(data: InvoiceDocument, options: RenderOptions) {
  const { practitioner, patient, invoice } = data;
  return renderPdf(
    {
      title: `Facture — ${patient.name}`,
      author: practitioner.name,
      subject: `Facture du ${frenchDate(invoice.date_issued)}`,
      creationDate: options.creationDate,
    },
    (doc) => {
      practiceHeader(doc, 'Facture', data, options.verificationUrl, { address: true });

      doc.moveDown(0.6);
      fields(doc, [
        ['Date de la facture', frenchDate(invoice.date_issued)],
        ['Référence', data.uuid],
      ]);

      section(doc, 'Détail');
      table(
        doc,
        [235, 100, 60, 100],
        [
          ['Désignation', 'Prix unitaire', 'Quantité', 'Total'],
          [invoice.designation, money(invoice.unit_price), String(invoice.quantity), money(invoice.total_amount)],
        ],
      );
      doc.moveDown(0.5);
      doc
        .font('bold')
        .fontSize(12)
        .text(`Total : ${money(invoice.total_amount)}`, { align: 'right' })
        .font('regular')
        .fontSize(10);
    },
    options.onIssued,
  );
}

/** The live invoice `uuid` as a PDF, streamed, and kept as its last issue (issues.ts). */
export async function invoicePdf(db: Kysely<Database>, uuid: string, request: PdfRequest) {
  const data = await loadInvoice(db, uuid);
  const stream = issuePdf(db, 'invoice', uuid, request, (options) => renderInvoice(data, options));
  return { stream, filename: `facture-${data.invoice.date_issued}.pdf` };
}
