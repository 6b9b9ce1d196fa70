import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { prescriptionPdf } from '../../../domain/medreport/documents/prescription.js';
import { Prescription, prescriptionRecords } from '../../../domain/medreport/records/prescriptions.js';
import { pdfRoute } from '../documents/index.js';
import { recordRoutes } from '../records/crud.js';

export { Prescription };

const prescriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(recordRoutes(prescriptionRecords));
  await app.register(
    pdfRoute({
      plural: 'prescriptions',
      operationId: 'getPrescriptionPdf',
      summary: 'The prescription as a French ordonnance (PDF) with its verification code and QR code',
      pdf: prescriptionPdf,
    }),
  );
};
export default prescriptionRoutes;
