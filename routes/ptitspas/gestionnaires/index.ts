import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  getGestionnaire,
  listGestionnaires,
  updateGestionnaire,
} from '../../../domain/ptitspas/gestionnaires/accounts.js';
import { createActiveUser } from '../../../domain/ptitspas/users/create.js';
import { sendActivation } from '../auth/activation.js';
import { authenticatedErrors as errors, security, TotalHeader } from '../responses.js';
import {
  CreatedUser,
  CreateGestionnaireBody,
  ListQuery,
  UpdateUserBody,
  UserDetail,
  UserIdParams,
  UserSummary,
} from '../users/schemas.js';

// The role is the route's: a list filter on it would be redundant, and an id of another role is 404.
const GestionnaireQuery = Type.Omit(ListQuery, ['role']);

/** /gestionnaires: the accounts of role gestionnaire, through the same queries as /users. */
const gestionnaireRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/gestionnaires',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire'] },
      schema: {
        operationId: 'ptitspasListGestionnaires',
        tags: ['ptitspas-gestionnaires'],
        summary: 'Liste des gestionnaires (paginée, total dans X-Total-Count)',
        security,
        querystring: GestionnaireQuery,
        response: { 200: { ...Type.Array(UserSummary), headers: TotalHeader }, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listGestionnaires(app.systemDb, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/gestionnaires/:id',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire'] },
      schema: {
        operationId: 'ptitspasGetGestionnaire',
        tags: ['ptitspas-gestionnaires'],
        summary: 'Un gestionnaire',
        security,
        params: UserIdParams,
        response: { 200: UserDetail, ...errors(400, 404) },
      },
    },
    async (request) => getGestionnaire(app.systemDb, request.params.id),
  );

  app.post(
    '/gestionnaires',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasCreateGestionnaire',
        tags: ['ptitspas-gestionnaires'],
        summary: 'Créer un gestionnaire, actif ; sans mot de passe, un lien pour le choisir est envoyé',
        security,
        body: CreateGestionnaireBody,
        response: { 201: CreatedUser, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { email, prenom, nom, telephone, adresse, password } = request.body;
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const fields = { email, prenom, nom, telephone, adresse };
      const { user, token } = await createActiveUser(app.systemDb, fields, 'gestionnaire', passwordHash);
      sendActivation(app, user, token);
      return reply.code(201).send({ id: user.id, email: user.email, role: user.role });
    },
  );

  app.patch(
    '/gestionnaires/:id',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasUpdateGestionnaire',
        tags: ['ptitspas-gestionnaires'],
        summary: 'Modifier un gestionnaire (mêmes champs que PATCH /users/:id)',
        security,
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: UserDetail, ...errors(400, 404) },
      },
    },
    async (request) => updateGestionnaire(app.systemDb, request.params.id, request.body),
  );
};

export default gestionnaireRoutes;
