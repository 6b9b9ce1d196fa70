import { fields, frenchDate, heading, type Pdf, section, verificationFooter } from '../../shared/documents/pdf.js';
import { groupedCode } from '../../shared/documents/verification-code.js';

/**
 * What a MedReport document says of the practice, the practitioner and the patient: what is
 * stored of them (migrations 0002 to 0004), nothing else. The organization has a name only; the
 * practitioner's address and phone are their profile's.
 */

export interface Practitioner {
  name: string;
  speciality: string | null;
  medical_order_number: string | null;
  address: string | null;
  phone: string | null;
}

export interface Patient {
  name: string;
  birth_date: string | null;
  gender: 'male' | 'female' | 'other' | null;
  address: string | null;
}

const GENDER = { male: 'masculin', female: 'féminin', other: 'autre' } as const;

/** Rows whose value is stored: a document prints what exists and leaves out what does not. */
const stored = (rows: ReadonlyArray<readonly [string, string | null]>) => rows.filter(([, value]) => value !== null);

/** The practitioner and their practice. */
function practitionerFields(doc: Pdf, practice: string, practitioner: Practitioner) {
  fields(
    doc,
    stored([
      ['Praticien', practitioner.name],
      ['Spécialité', practitioner.speciality],
      ['N° d’inscription à l’Ordre', practitioner.medical_order_number],
      ['Cabinet', practice],
      ['Adresse', practitioner.address],
      ['Téléphone', practitioner.phone],
    ]),
  );
}

/** The patient; `address` for an invoice, where it is the billing address. */
function patientFields(doc: Pdf, patient: Patient, { address = false } = {}) {
  fields(
    doc,
    stored([
      ['Patient', patient.name],
      ['Né(e) le', patient.birth_date && frenchDate(patient.birth_date)],
      ['Sexe', patient.gender && GENDER[patient.gender]],
      ['Adresse', address ? patient.address : null],
    ]),
  );
}

/**
 * The columns of the practice (o), the practitioner (u) and the patient (p) a document query
 * selects beside its record's, read back by `partiesOf`.
 */
export const PARTY_COLUMNS = [
  'o.name as practice',
  'u.name as practitioner_name',
  'u.speciality as practitioner_speciality',
  'u.medical_order_number as practitioner_order_number',
  'u.address as practitioner_address',
  'u.phone as practitioner_phone',
  'p.name as patient_name',
  'p.birth_date as patient_birth_date',
  'p.gender as patient_gender',
  'p.address as patient_address',
] as const;

interface PartyRow {
  practice: string;
  practitioner_name: string;
  practitioner_speciality: string | null;
  practitioner_order_number: string | null;
  practitioner_address: string | null;
  practitioner_phone: string | null;
  patient_name: string;
  patient_birth_date: string | null;
  patient_gender: Patient['gender'];
  patient_address: string | null;
}

export function partiesOf(row: PartyRow): { practice: string; practitioner: Practitioner; patient: Patient } {
  return {
    practice: row.practice,
    practitioner: {
      name: row.practitioner_name,
      speciality: row.practitioner_speciality,
      medical_order_number: row.practitioner_order_number,
      address: row.practitioner_address,
      phone: row.practitioner_phone,
    },
    patient: {
      name: row.patient_name,
      birth_date: row.patient_birth_date,
      gender: row.patient_gender,
      address: row.patient_address,
    },
  };
}

/**
 * The top of a practice's document: its title and practice, the verification footer, the
 * practitioner, then the patient (with their address on an invoice, the billing address).
 */
export function practiceHeader(
  doc: Pdf,
  title: string,
  data: { practice: string; practitioner: Practitioner; patient: Patient; verification_code: string },
  verificationUrl: (code: string) => string,
  { address = false } = {},
) {
  heading(doc, title, data.practice);
  verificationFooter(doc, { code: groupedCode(data.verification_code), url: verificationUrl(data.verification_code) });
  practitionerFields(doc, data.practice, data.practitioner);
  section(doc, 'Patient');
  patientFields(doc, data.patient, { address });
}
