import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getEnfant, listEnfants } from '../../../domain/ptitspas/enfants/queries.js';
import { createEnfant, deleteEnfant, updateEnfant } from '../../../domain/ptitspas/enfants/writes.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { Message, UserIdParams } from '../users/schemas.js';
import { CreateEnfantBody, Enfant, EnfantList, EnfantQuery, UpdateEnfantBody } from './schemas.js';

const tags = ['ptitspas-enfants'];

/**
 * /enfants with the document's roles. Who sees which child is decided in one place
 * (domain/ptitspas/enfants/visibility.ts): a parent their own children and their co-parent's, a
 * childminder those of her current signed contracts; any other id is 404.
 */
const enfantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/enfants',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur'] },
      schema: {
        operationId: 'ptitspasListEnfants',
        tags,
        summary: 'Liste des enfants (paginée, total dans X-Total-Count)',
        security,
        querystring: EnfantQuery,
        response: { 200: EnfantList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listEnfants(app.systemDb, request.ptitspasUser, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/enfants/:id',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur', 'parent', 'assistante_maternelle'] },
      schema: {
        operationId: 'ptitspasGetEnfant',
        tags,
        summary: 'Un enfant (un parent : les siens ; une assistante maternelle : ceux de ses contrats signés en cours)',
        security,
        params: UserIdParams,
        response: { 200: Enfant, ...errors(400, 404) },
      },
    },
    async (request) => getEnfant(app.systemDb, request.ptitspasUser, request.params.id),
  );

  app.post(
    '/enfants',
    {
      config: { ptitspasRoles: ['parent'] },
      schema: {
        operationId: 'ptitspasCreateEnfant',
        tags,
        summary: 'Créer un enfant : le parent qui le crée en devient le parent, son co-parent le voit aussi',
        security,
        body: CreateEnfantBody,
        response: { 201: Enfant, ...errors(400) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createEnfant(app.systemDb, request.ptitspasUser, request.body)),
  );

  app.patch(
    '/enfants/:id',
    {
      config: { ptitspasRoles: ['super_admin', 'administrateur', 'parent'] },
      schema: {
        operationId: 'ptitspasUpdateEnfant',
        tags,
        summary: 'Modifier un enfant (un parent : seulement les siens)',
        security,
        params: UserIdParams,
        body: UpdateEnfantBody,
        response: { 200: Enfant, ...errors(400, 404) },
      },
    },
    async (request) => updateEnfant(app.systemDb, request.ptitspasUser, request.params.id, request.body),
  );

  app.delete(
    '/enfants/:id',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasDeleteEnfant',
        tags,
        summary: 'Supprimer un enfant',
        security,
        params: UserIdParams,
        response: { 200: Message, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      await deleteEnfant(app.systemDb, request.params.id);
      return { message: 'Enfant supprimé' };
    },
  );
};

export default enfantRoutes;
