import { Invoice, invoiceRecords } from '../../../domain/medreport/records/invoices.js';
import { recordRoutes } from '../records/crud.js';

export { Invoice };
export default recordRoutes(invoiceRecords);
