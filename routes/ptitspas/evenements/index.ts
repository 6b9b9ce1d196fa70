import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getEvenement, journal, listEvenements } from '../../../domain/ptitspas/evenements/queries.js';
import { createEvenement, deleteEvenement, updateEvenement } from '../../../domain/ptitspas/evenements/writes.js';
import { authenticatedErrors as errors, plainJson, security } from '../responses.js';
import { Message } from '../users/schemas.js';
import {
  Evenement,
  EvenementBody,
  EvenementChanges,
  EvenementList,
  EvenementParams,
  EvenementQuery,
  Journal,
  JournalQuery,
} from './schemas.js';

const tags = ['ptitspas-evenements'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;
/** Who writes a child's day: its childminder (a current signed contract) and staff. */
const WRITERS = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle'] as const;

/**
 * /evenements and /enfants/:id/journal: the day of a child. Who sees it is who sees the child
 * (domain/ptitspas/enfants/visibility.ts); the types and rules in domain/ptitspas/evenements/.
 */
const evenementRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/evenements',
    {
      config: { ptitspasRoles: WRITERS },
      schema: {
        operationId: 'ptitspasCreateEvenement',
        tags,
        summary: 'Noter un événement de la journée d’un enfant (son assistante maternelle, le personnel)',
        security,
        body: EvenementBody,
        response: { 201: Evenement, ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createEvenement(app.systemDb, request.ptitspasUser, request.body)),
  );

  app.get(
    '/evenements',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      ...plainJson,
      schema: {
        operationId: 'ptitspasListEvenements',
        tags,
        summary: 'Les événements, du plus ancien au plus récent (id_enfant obligatoire sauf pour le personnel)',
        security,
        querystring: EvenementQuery,
        response: { 200: EvenementList, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listEvenements(app.systemDb, request.ptitspasUser, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/evenements/:id',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetEvenement',
        tags,
        summary: 'Un événement d’un enfant que l’on voit',
        security,
        params: EvenementParams,
        response: { 200: Evenement, ...errors(400, 404) },
      },
    },
    async (request) => getEvenement(app.systemDb, request.ptitspasUser, request.params.id),
  );

  app.patch(
    '/evenements/:id',
    {
      config: { ptitspasRoles: WRITERS },
      schema: {
        operationId: 'ptitspasUpdateEvenement',
        tags,
        summary: 'Corriger un événement : son auteur dans les 24 heures, le personnel',
        security,
        params: EvenementParams,
        body: EvenementChanges,
        response: { 200: Evenement, ...errors(400, 404) },
      },
    },
    async (request) => updateEvenement(app.systemDb, request.ptitspasUser, request.params.id, request.body),
  );

  app.delete(
    '/evenements/:id',
    {
      config: { ptitspasRoles: WRITERS },
      schema: {
        operationId: 'ptitspasDeleteEvenement',
        tags,
        summary: 'Supprimer un événement : son auteur dans les 24 heures, le personnel',
        security,
        params: EvenementParams,
        response: { 200: Message, ...errors(400, 404) },
      },
    },
    async (request) => {
      await deleteEvenement(app.systemDb, request.ptitspasUser, request.params.id);
      return { message: 'Événement supprimé' };
    },
  );

  app.get(
    '/enfants/:id/journal',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetJournal',
        tags,
        summary: 'La journée d’un enfant : arrivée, départ, siestes, biberons, repas et tous ses événements',
        security,
        params: EvenementParams,
        querystring: JournalQuery,
        response: { 200: Journal, ...errors(400, 404) },
      },
    },
    async (request) => journal(app.systemDb, request.ptitspasUser, request.params.id, request.query.date),
  );
};

export default evenementRoutes;
