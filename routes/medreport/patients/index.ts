import { Patient, patientRecords } from '../../../domain/medreport/records/patients.js';
import { recordRoutes } from '../records/crud.js';

export { Patient };
export default recordRoutes(patientRecords);
