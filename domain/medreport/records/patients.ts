import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { assertPastDate } from '../accounts/rules.js';
import type { RecordDefinition } from './definition.js';
import { Clearable, DateOnly, LongText, RecordMeta, Uuid } from './schemas.js';

const Gender = StringEnum(['male', 'female', 'other']);
const BloodGroup = StringEnum(['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-']);

const fields = {
  birth_date: Clearable(DateOnly),
  gender: Clearable(Gender),
  phone: Clearable(Type.String({ maxLength: 50 })),
  email: Clearable(Type.String({ format: 'email', maxLength: 255 })),
  address: Clearable(Type.String({ maxLength: 500 })),
  blood_group: Clearable(BloodGroup),
  allergies: Clearable(LongText),
  notes: Clearable(LongText),
};

export const Patient = Type.Object(
  {
    ...RecordMeta,
    name: Type.String(),
    birth_date: Nullable(DateOnly),
    gender: Nullable(Gender),
    phone: Nullable(Type.String()),
    email: Nullable(Type.String()),
    address: Nullable(Type.String()),
    blood_group: Nullable(Type.String()),
    allergies: Nullable(Type.String()),
    notes: Nullable(Type.String()),
  },
  { $id: 'Patient' },
);

const name = Type.String({ minLength: 1, maxLength: 255 });
const columns = [
  'name',
  'birth_date',
  'gender',
  'phone',
  'email',
  'address',
  'blood_group',
  'allergies',
  'notes',
] as const;

export const patientRecords: RecordDefinition<'medreport.patients'> = {
  table: 'medreport.patients',
  entity: 'patient',
  plural: 'patients',
  resource: Patient,
  create: Type.Object({ uuid: Type.Optional(Uuid), name, ...fields }),
  update: Type.Object({ name: Type.Optional(name), ...fields }, { minProperties: 1 }),
  searchColumns: ['name', 'phone', 'email'],
  sortColumns: ['created_at', 'name', 'birth_date', 'updated_at'],
  nameColumn: 'name',
  columns,
  writable: columns,
  async prepare(_refs, input) {
    assertPastDate('birth_date', (input.birth_date as string | null | undefined) ?? undefined);
    return { ...input };
  },
  exportable: true,
};
