import { Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';
import type { RecordDefinition } from './definition.js';
import { Clearable, DateOnly, LongText, RecordMeta, ShortText, Uuid, VerificationCode } from './schemas.js';

export const Prescription = Type.Object(
  {
    ...RecordMeta,
    patient_uuid: Uuid,
    doctor_uuid: Uuid,
    medication: Type.String(),
    dosage: Nullable(Type.String()),
    duration: Nullable(Type.String()),
    notes: Nullable(Type.String()),
    validity_period: Nullable(Type.Integer({ description: 'Days the prescription stays valid' })),
    file_uuid: Nullable(Uuid),
    date_issued: DateOnly,
    verification_code: VerificationCode,
  },
  { $id: 'Prescription' },
);

const fields = {
  doctor_uuid: Type.Optional(Uuid),
  dosage: Clearable(ShortText),
  duration: Clearable(ShortText),
  notes: Clearable(LongText),
  validity_period: Clearable(Type.Integer({ minimum: 1, maximum: 3650 })),
  file_uuid: Clearable(Uuid),
  date_issued: Type.Optional(DateOnly),
};
const medication = Type.String({ minLength: 1, maxLength: 500 });
const columns = [
  'patient_uuid',
  'doctor_uuid',
  'medication',
  'dosage',
  'duration',
  'notes',
  'validity_period',
  'file_uuid',
  'date_issued',
] as const;

export const prescriptionRecords: RecordDefinition<'medreport.prescriptions'> = {
  table: 'medreport.prescriptions',
  entity: 'prescription',
  plural: 'prescriptions',
  resource: Prescription,
  create: Type.Object({ uuid: Type.Optional(Uuid), patient_uuid: Uuid, medication, ...fields }),
  update: Type.Object(
    { patient_uuid: Type.Optional(Uuid), medication: Type.Optional(medication), ...fields },
    {
      minProperties: 1,
    },
  ),
  filters: { patient_uuid: Type.Optional(Uuid) },
  searchColumns: ['medication', 'dosage', 'notes'],
  sortColumns: ['created_at', 'date_issued', 'medication', 'updated_at'],
  nameColumn: 'medication',
  columns,
  writable: columns,
  async prepare(refs, input, existing) {
    const values = { ...input };
    if (values.patient_uuid !== undefined) await refs.patient(values.patient_uuid as string);
    await refs.file(values.file_uuid as string | null | undefined);
    if (!existing || values.doctor_uuid !== undefined) {
      values.doctor_uuid = await refs.doctor(values.doctor_uuid as string | undefined);
    }
    return values;
  },
  exportable: true,
};
