import type { Kysely } from 'kysely';
import type { Database, OrganizationRow, UserRow } from '../../../db/schema.js';
import { Conflict, Forbidden, Invalid } from '../../errors.js';
import type { OpenSession } from '../accounts/login.js';
import type { NewAccount } from '../accounts/model.js';
import { createUser } from '../accounts/users.js';
import { createOrganization, findOrganizationByCode } from './organizations.js';

const INVALID_CODE = "Code d'organisation invalide.";

/** The organization whose current code is `code`; invalid (on `organization_code`) otherwise. */
export async function organizationOfCode(db: Kysely<Database>, code: string): Promise<OrganizationRow> {
  const organization = await findOrganizationByCode(db, code);
  if (!organization) throw new Invalid(INVALID_CODE, { organization_code: [INVALID_CODE] });
  return organization;
}

/** Creates the owner's account, their organization and the owner's first session, in one transaction. */
export function registerOwner(
  db: Kysely<Database>,
  account: NewAccount,
  organizationName: string,
  passwordHash: string,
  openSession: OpenSession,
): Promise<{ user: UserRow; organization: OrganizationRow; token: string }> {
  return db.transaction().execute(async (trx) => {
    const owner = await createUser(trx, account, { passwordHash, role: 'owner' });
    const organization = await createOrganization(trx, organizationName, owner.id);
    const user = await trx
      .updateTable('medreport.users')
      .set({ organization_id: organization.id })
      .where('id', '=', owner.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { user, organization, token: await openSession(trx, user) };
  });
}

const ALREADY_MEMBER = 'Vous appartenez déjà à une organisation.';

/** The user joins the organization of `code` as a doctor; refused to administrators and members. */
export async function joinOrganization(
  db: Kysely<Database>,
  user: Pick<UserRow, 'id' | 'platform_role' | 'organization_id'>,
  code: string,
): Promise<{ user: UserRow; organization: OrganizationRow }> {
  if (user.platform_role === 'admin') throw new Forbidden('Un administrateur ne peut pas rejoindre une organisation.');
  if (user.organization_id !== null) throw new Conflict(ALREADY_MEMBER);
  const organization = await organizationOfCode(db, code);
  // Conditional on still having no organization: two joins racing cannot both win.
  const joined = await db
    .updateTable('medreport.users')
    .set({ organization_id: organization.id, role: 'doctor', updated_at: new Date() })
    .where('id', '=', user.id)
    .where('organization_id', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!joined) throw new Conflict(ALREADY_MEMBER);
  return { user: joined, organization };
}
