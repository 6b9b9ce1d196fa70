import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getParent, listParents } from '../../../domain/ptitspas/parents/queries.js';
import { createParent, updateParent } from '../../../domain/ptitspas/parents/writes.js';
import { sendActivation } from '../auth/activation.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { UserIdParams } from '../users/schemas.js';
import { CreateParentBody, Parent, ParentList, ParentQuery, UpdateParentBody } from './schemas.js';

const tags = ['ptitspas-parents'];
const STAFF = ['super_admin', 'gestionnaire'] as const;

/** /parents, keyed by the parent's account id; co-parents are linked both ways. */
const parentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/parents',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasListParents',
        tags,
        summary: 'Liste des parents (paginée, total dans X-Total-Count)',
        security,
        querystring: ParentQuery,
        response: { 200: ParentList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listParents(app.systemDb, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/parents/:id',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasGetParent',
        tags,
        summary: 'Un parent, par l’id de son compte',
        security,
        params: UserIdParams,
        response: { 200: Parent, ...errors(400, 404) },
      },
    },
    async (request) => getParent(app.systemDb, request.params.id),
  );

  app.post(
    '/parents',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasCreateParent',
        tags,
        summary: 'Créer un parent, actif ; sans mot de passe, un lien pour le choisir est envoyé',
        security,
        body: CreateParentBody,
        response: { 201: Parent, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { password } = request.body;
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const { user, token, parent } = await createParent(app.systemDb, request.body, passwordHash);
      sendActivation(app, user, token);
      return reply.code(201).send(parent);
    },
  );

  app.patch(
    '/parents/:id',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasUpdateParent',
        tags,
        summary: 'Modifier un parent ; id_co_parent lie (ou délie, null) les deux parents',
        security,
        params: UserIdParams,
        body: UpdateParentBody,
        response: { 200: Parent, ...errors(400, 404, 409) },
      },
    },
    async (request) => updateParent(app.systemDb, request.params.id, request.body),
  );
};

export default parentRoutes;
