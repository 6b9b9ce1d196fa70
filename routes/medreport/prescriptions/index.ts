import { Prescription, prescriptionRecords } from '../../../domain/medreport/records/prescriptions.js';
import { recordRoutes } from '../records/crud.js';

export { Prescription };
export default recordRoutes(prescriptionRecords);
