import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../plugins/errors.js';
import { TotalHeader } from '../lists.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { Message, UserIdParams } from '../users/schemas.js';
import { ENFANT_NOT_FOUND, findEnfant, insertEnfant, listEnfants, updateEnfant } from './queries.js';
import { CreateEnfantBody, Enfant, EnfantQuery, UpdateEnfantBody } from './schemas.js';

const tags = ['ptitspas-enfants'];

/**
 * /enfants with the document's roles. A parent reaches only their own children and their
 * co-parent's (queries.ts, visibleEnfants): any other id is 404.
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
        response: { 200: { ...Type.Array(Enfant), headers: TotalHeader }, ...errors(400) },
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
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur', 'parent'] },
      schema: {
        operationId: 'ptitspasGetEnfant',
        tags,
        summary: 'Un enfant (un parent : seulement les siens)',
        security,
        params: UserIdParams,
        response: { 200: Enfant, ...errors(400, 404) },
      },
    },
    async (request) => {
      const enfant = await findEnfant(app.systemDb, request.ptitspasUser, request.params.id);
      if (!enfant) throw notFound(ENFANT_NOT_FOUND);
      return enfant;
    },
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
    async (request, reply) => {
      const id = await insertEnfant(app.systemDb, request.ptitspasUser.id, request.body);
      return reply.code(201).send((await findEnfant(app.systemDb, request.ptitspasUser, id))!);
    },
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
    async (request) => {
      const id = await updateEnfant(app.systemDb, request.ptitspasUser, request.params.id, request.body);
      if (!id) throw notFound(ENFANT_NOT_FOUND);
      return (await findEnfant(app.systemDb, request.ptitspasUser, id))!;
    },
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
        response: { 200: Message, ...errors(400, 404) },
      },
    },
    async (request) => {
      const deleted = await app.systemDb
        .deleteFrom('ptitspas.enfants')
        .where('id', '=', request.params.id)
        .returning('id')
        .executeTakeFirst();
      if (!deleted) throw notFound(ENFANT_NOT_FOUND);
      return { message: 'Enfant supprimé' };
    },
  );
};

export default enfantRoutes;
