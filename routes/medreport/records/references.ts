import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { unprocessable } from '../../../plugins/errors.js';

const invalid = (field: string, message: string) => unprocessable(message, { [field]: [message] });

/** References are looked up through the tenant handle: another organization's rows do not exist. */
export async function assertPatient(db: Kysely<Database>, uuid: string): Promise<void> {
  const found = await db
    .selectFrom('medreport.patients')
    .select('uuid')
    .where('uuid', '=', uuid)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!found) throw invalid('patient_uuid', 'Patient introuvable dans votre organisation.');
}

export async function assertFile(db: Kysely<Database>, uuid: string | null | undefined): Promise<void> {
  if (!uuid) return;
  const found = await db.selectFrom('medreport.files').select('uuid').where('uuid', '=', uuid).executeTakeFirst();
  if (!found) throw invalid('file_uuid', 'Fichier introuvable dans votre organisation.');
}

/** The prescribing doctor: the caller by default, otherwise a member (owner or doctor) of their organization. */
export async function resolveDoctor(db: Kysely<Database>, request: FastifyRequest, uuid: string | undefined) {
  if (uuid === undefined || uuid === request.user.uuid) return request.user.uuid;
  const member = await db
    .selectFrom('medreport.users')
    .select('uuid')
    .where('uuid', '=', uuid)
    .where('organization_id', '=', request.tenant.organizationId)
    .where('role', 'in', ['owner', 'doctor'])
    .executeTakeFirst();
  if (!member) throw invalid('doctor_uuid', 'Ce médecin ne fait pas partie de votre organisation.');
  return member.uuid;
}
