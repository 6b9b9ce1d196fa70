import { Type } from '@sinclair/typebox';
import {
  Evenement,
  EvenementBody,
  EvenementChanges,
  EvenementListOptions,
  Journal,
} from '../../../domain/ptitspas/evenements/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /evenements and of a child's journal. */
export { Evenement, EvenementBody, EvenementChanges, Journal };
export const EvenementQuery = EvenementListOptions;
export const EvenementList = { ...Type.Array(Evenement), headers: TotalHeader };
export const EvenementParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const JournalQuery = Type.Object({
  date: Type.String({ format: 'date', description: 'Le jour (Europe/Paris)' }),
});
