import { Type } from '@sinclair/typebox';
import type { OrganizationRow } from '../../../db/schema.js';
import { NewAccount } from '../../../domain/medreport/accounts/model.js';
import { User } from '../users/schemas.js';

export const Organization = Type.Object(
  {
    id: Type.Integer(),
    uuid: Type.String({ format: 'uuid' }),
    name: Type.String(),
    code: Type.String({ description: 'Invitation code doctors join with (ORG-...)' }),
    owner_user_id: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Organization' },
);

export function toOrganizationResource(row: OrganizationRow) {
  return {
    id: row.id,
    uuid: row.uuid,
    name: row.name,
    code: row.code,
    owner_user_id: row.owner_user_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const Account = NewAccount.properties;

const OrganizationCode = Type.String({ minLength: 1, maxLength: 64 });

export const RegisterOwnerBody = Type.Object({
  ...Account,
  organization_name: Type.String({ minLength: 1, maxLength: 255 }),
});
export const RegisterDoctorBody = Type.Object({ ...Account, organization_code: OrganizationCode });
export const JoinBody = Type.Object({ organization_code: OrganizationCode });
export const RenameBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) });

export const OwnerRegistered = Type.Object({
  user: Type.Ref(User),
  token: Type.String(),
  organization: Type.Ref(Organization),
  organization_code: Type.String(),
});
export const DoctorRegistered = Type.Object({
  user: Type.Ref(User),
  token: Type.String(),
  organization: Type.Ref(Organization),
});
export const Joined = Type.Object({
  message: Type.String(),
  organization: Type.Ref(Organization),
  user: Type.Ref(User),
});
export const OrganizationWithRole = Type.Object({ organization: Type.Ref(Organization), role: Type.String() });
export const OrganizationUpdated = Type.Object({ organization: Type.Ref(Organization), message: Type.String() });
export const CodeRotated = Type.Object({
  message: Type.String(),
  code: Type.String(),
  organization: Type.Ref(Organization),
});
