import { Type } from '@sinclair/typebox';
import { NewParent, Parent, ParentChanges, ParentListOptions } from '../../../domain/ptitspas/parents/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /parents: bodies and query string are the domain's model schemas. */
export { Parent };
export const CreateParentBody = NewParent;
export const UpdateParentBody = ParentChanges;
export const ParentQuery = ParentListOptions;
export const ParentList = { ...Type.Array(Parent), headers: TotalHeader };
