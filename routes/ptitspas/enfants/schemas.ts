import { Type } from '@sinclair/typebox';
import { Enfant, EnfantChanges, EnfantListOptions, NewEnfant } from '../../../domain/ptitspas/enfants/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /enfants: bodies and query string are the domain's model schemas. */
export { Enfant };
export const CreateEnfantBody = NewEnfant;
export const UpdateEnfantBody = EnfantChanges;
export const EnfantQuery = EnfantListOptions;
export const EnfantList = { ...Type.Array(Enfant), headers: TotalHeader };
