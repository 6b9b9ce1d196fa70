import { Type } from '@sinclair/typebox';
import { Invalid } from '../../errors.js';
import { Nullable } from '../../shared/schemas.js';
import type { RecordDefinition } from './definition.js';
import { Clearable, DateOnly, RecordMeta, Uuid, VerificationCode } from './schemas.js';

// Amounts are integers in the smallest unit of the practice's currency (centimes; francs CFA
// have none). The bounds keep unit_price × quantity an exact JavaScript number.
const UnitPrice = Type.Integer({ minimum: 0, maximum: 100_000_000_000 });
const Quantity = Type.Integer({ minimum: 1, maximum: 10_000 });

export const Invoice = Type.Object(
  {
    ...RecordMeta,
    patient_uuid: Uuid,
    doctor_uuid: Uuid,
    designation: Type.String(),
    unit_price: Type.Integer(),
    quantity: Type.Integer(),
    total_amount: Type.Integer({ description: 'unit_price × quantity, computed by the server' }),
    file_uuid: Nullable(Uuid),
    date_issued: DateOnly,
    verification_code: VerificationCode,
  },
  { $id: 'Invoice' },
);

const designation = Type.String({ minLength: 1, maxLength: 500 });
const fields = {
  doctor_uuid: Type.Optional(Uuid),
  total_amount: Type.Optional(Type.Integer({ description: 'Ignored: the server computes it' })),
  file_uuid: Clearable(Uuid),
  date_issued: Type.Optional(DateOnly),
};
const columns = [
  'patient_uuid',
  'doctor_uuid',
  'designation',
  'unit_price',
  'quantity',
  'total_amount',
  'file_uuid',
  'date_issued',
] as const;

export const invoiceRecords: RecordDefinition<'medreport.invoices'> = {
  table: 'medreport.invoices',
  entity: 'invoice',
  plural: 'invoices',
  resource: Invoice,
  create: Type.Object({
    uuid: Type.Optional(Uuid),
    patient_uuid: Uuid,
    designation,
    unit_price: UnitPrice,
    quantity: Quantity,
    ...fields,
  }),
  update: Type.Object(
    {
      patient_uuid: Type.Optional(Uuid),
      designation: Type.Optional(designation),
      unit_price: Type.Optional(UnitPrice),
      quantity: Type.Optional(Quantity),
      ...fields,
    },
    { minProperties: 1 },
  ),
  filters: { patient_uuid: Type.Optional(Uuid) },
  searchColumns: ['designation'],
  sortColumns: ['created_at', 'date_issued', 'total_amount', 'updated_at'],
  nameColumn: 'designation',
  columns,
  writable: columns.filter((c) => c !== 'total_amount'),
  async prepare(refs, input, existing) {
    const values = { ...input };
    if (values.patient_uuid !== undefined) await refs.patient(values.patient_uuid as string);
    await refs.file(values.file_uuid as string | null | undefined);
    if (!existing || values.doctor_uuid !== undefined) {
      values.doctor_uuid = await refs.doctor(values.doctor_uuid as string | undefined);
    }
    const unitPrice = (values.unit_price ?? existing?.unit_price) as number;
    const quantity = (values.quantity ?? existing?.quantity) as number;
    const total = unitPrice * quantity;
    if (!Number.isSafeInteger(total))
      throw new Invalid('Montant total trop élevé.', { unit_price: ['Montant total trop élevé.'] });
    return { ...values, total_amount: total };
  },
};
