import { Type } from '@sinclair/typebox';
import {
  Contrat,
  ContratBody,
  ContratChanges,
  ContratListOptions,
  TerminerBody,
  Verification,
} from '../../../domain/ptitspas/contrats/model.js';
import { fileResponse } from '../../shared/downloads.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /contrats and /verification: bodies and query string are the domain's model schemas. */
export { Contrat, ContratBody, ContratChanges, TerminerBody, Verification };
export const ContratQuery = ContratListOptions;
export const ContratList = { ...Type.Array(Contrat), headers: TotalHeader };
export const ContratParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
export const PdfDocument = fileResponse(
  'Le contrat en PDF (« BROUILLON » avant la dernière signature ; ensuite le document signé, toujours le même)',
  ['application/pdf'],
);
