import { Type } from '@sinclair/typebox';
import {
  AssistanteMaternelle,
  AssistanteMaternelleChanges,
  AssistanteMaternelleListOptions,
  AssistanteMaternelleSummary,
  NewAssistanteMaternelle,
} from '../../../domain/ptitspas/assistantes-maternelles/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /assistantes-maternelles: bodies and query string are the domain's model schemas. */
export { AssistanteMaternelle, AssistanteMaternelleSummary };
export const CreateAssistanteMaternelleBody = NewAssistanteMaternelle;
export const UpdateAssistanteMaternelleBody = AssistanteMaternelleChanges;
export const AssistanteMaternelleQuery = AssistanteMaternelleListOptions;
export const AssistanteMaternelleList = { ...Type.Array(AssistanteMaternelleSummary), headers: TotalHeader };
