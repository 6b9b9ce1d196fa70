import type { TObject } from '@sinclair/typebox';
import type { SyncEntity } from '../../../db/schema.js';
import { fileEntity } from '../files/model.js';
import type { AnyRecordDefinition } from '../records/definition.js';
import { invoiceRecords } from '../records/invoices.js';
import type { SyncedEntity } from '../records/mutation.js';
import { patientRecords } from '../records/patients.js';
import { prescriptionRecords } from '../records/prescriptions.js';
import { SYNC_ENTITIES } from './pull.js';

/** What the feed carries: the records, which a push may write, and files, which it may only delete. */
export interface SyncEntities extends Record<SyncEntity, SyncedEntity> {
  patients: AnyRecordDefinition;
  prescriptions: AnyRecordDefinition;
  invoices: AnyRecordDefinition;
  files: SyncedEntity;
}

export const ENTITIES: SyncEntities = {
  patients: patientRecords,
  prescriptions: prescriptionRecords,
  invoices: invoiceRecords,
  files: fileEntity,
};

/** Each entity's resource, as the sync answers carry it. */
export const RESOURCES = Object.fromEntries(SYNC_ENTITIES.map((e) => [e, ENTITIES[e].resource])) as Record<
  SyncEntity,
  TObject
>;
