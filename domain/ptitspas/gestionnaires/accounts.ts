import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { UserChanges } from '../accounts/model.js';
import { changeUser, getUser, listUsers } from '../accounts/users.js';
import type { UserListOptions } from '../users/model.js';

/** The accounts of role gestionnaire, through the same queries as every account; another role is not found. */
const GESTIONNAIRE_NOT_FOUND = 'Gestionnaire non trouvé';

export const listGestionnaires = (db: Kysely<Database>, options: Omit<UserListOptions, 'role'>) =>
  listUsers(db, { ...options, role: 'gestionnaire' });

export const getGestionnaire = (db: Kysely<Database>, id: string) =>
  getUser(db, id, 'gestionnaire', GESTIONNAIRE_NOT_FOUND);

export const updateGestionnaire = (db: Kysely<Database>, id: string, changes: UserChanges) =>
  changeUser(db, id, changes, 'gestionnaire', GESTIONNAIRE_NOT_FOUND);
