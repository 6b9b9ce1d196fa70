import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invoicePdf } from '../../../domain/medreport/documents/invoice.js';
import { Invoice, invoiceRecords } from '../../../domain/medreport/records/invoices.js';
import { pdfRoute } from '../documents/index.js';
import { recordRoutes } from '../records/crud.js';

export { Invoice };

const invoiceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(recordRoutes(invoiceRecords));
  await app.register(
    pdfRoute({
      plural: 'invoices',
      operationId: 'getInvoicePdf',
      summary: 'The invoice as a PDF (lines, total, practice) with its verification code and QR code',
      pdf: invoicePdf,
    }),
  );
};
export default invoiceRoutes;
