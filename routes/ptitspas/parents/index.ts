import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../plugins/errors.js';
import { sendActivation } from '../auth/links.js';
import { TotalHeader } from '../lists.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { createActiveUser } from '../users/create.js';
import { updateUser } from '../users/queries.js';
import { UserIdParams } from '../users/schemas.js';
import { findParent, insertParent, listParents, PARENT_NOT_FOUND, setCoParent } from './queries.js';
import { CreateParentBody, Parent, ParentQuery, UpdateParentBody } from './schemas.js';

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
        response: { 200: { ...Type.Array(Parent), headers: TotalHeader }, ...errors(400) },
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
    async (request) => {
      const parent = await findParent(app.systemDb, request.params.id);
      if (!parent) throw notFound(PARENT_NOT_FOUND);
      return parent;
    },
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
      const { password, id_co_parent: coParent, ...fields } = request.body;
      const { user, token } = await createActiveUser(
        app.systemDb,
        app.passwords.for(request),
        fields,
        'parent',
        password,
        async (trx, id) => {
          await insertParent(trx, id);
          if (coParent) await setCoParent(trx, id, coParent);
        },
      );
      sendActivation(app, user, token);
      return reply.code(201).send((await findParent(app.systemDb, user.id))!);
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
    async (request) => {
      const { id } = request.params;
      const { id_co_parent: coParent, ...changes } = request.body;
      await app.systemDb.transaction().execute(async (trx) => {
        if (coParent !== undefined) await setCoParent(trx, id, coParent);
        if (Object.keys(changes).length > 0) await updateUser(trx, id, changes, 'parent');
      });
      const parent = await findParent(app.systemDb, id);
      if (!parent) throw notFound(PARENT_NOT_FOUND);
      return parent;
    },
  );
};

export default parentRoutes;
