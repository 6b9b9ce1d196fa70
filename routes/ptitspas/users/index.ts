import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { deleteUser, suspendUser, validateUser } from '../../../domain/ptitspas/accounts/statuses.js';
import { changeUser, getUser, listUsers } from '../../../domain/ptitspas/accounts/users.js';
import { createActiveUser } from '../../../domain/ptitspas/users/create.js';
import { optionalBody } from '../../../plugins/boundary.js';
import { sendActivation } from '../auth/activation.js';
import { authenticatedErrors as errors, security, TotalHeader } from '../responses.js';
import {
  AccountMessage,
  CreatedUser,
  CreateUserBody,
  ListQuery,
  Message,
  StatusBody,
  UpdateUserBody,
  UserDetail,
  UserIdParams,
  UserSummary,
} from './schemas.js';

/** /users: every account, whatever its role (the roles of each route as the document lists them). */
const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/users',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasListUsers',
        tags: ['ptitspas-users'],
        summary: 'Liste des utilisateurs (paginée, total dans X-Total-Count)',
        security,
        querystring: ListQuery,
        response: { 200: { ...Type.Array(UserSummary), headers: TotalHeader }, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listUsers(app.systemDb, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/users/:id',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire'] },
      schema: {
        operationId: 'ptitspasGetUser',
        tags: ['ptitspas-users'],
        summary: 'Un utilisateur',
        security,
        params: UserIdParams,
        response: { 200: UserDetail, ...errors(400, 404) },
      },
    },
    async (request) => getUser(app.systemDb, request.params.id),
  );

  app.post(
    '/users',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasCreateUser',
        tags: ['ptitspas-users'],
        summary: 'Créer un compte du personnel, actif ; sans mot de passe, un lien pour le choisir est envoyé',
        security,
        body: CreateUserBody,
        response: { 201: CreatedUser, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { email, prenom, nom, telephone, adresse, role, password } = request.body;
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const fields = { email, prenom, nom, telephone, adresse };
      const { user, token } = await createActiveUser(app.systemDb, fields, role, passwordHash);
      sendActivation(app, user, token);
      return reply.code(201).send({ id: user.id, email: user.email, role: user.role });
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasUpdateUser',
        tags: ['ptitspas-users'],
        summary: 'Modifier le prénom, le nom, le téléphone ou l’adresse',
        security,
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: UserDetail, ...errors(400, 404) },
      },
    },
    async (request) => changeUser(app.systemDb, request.params.id, request.body),
  );

  app.patch(
    '/users/:id/valider',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur'] },
      preValidation: optionalBody,
      schema: {
        operationId: 'ptitspasValidateUser',
        tags: ['ptitspas-users'],
        summary: 'Valider un compte ; sans mot de passe, un lien valable 7 jours est envoyé (à nouveau)',
        security,
        params: UserIdParams,
        body: StatusBody,
        response: { 200: AccountMessage, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const { user, token } = await validateUser(
        app.systemDb,
        request.ptitspasUser,
        request.params.id,
        request.body.comment,
      );
      sendActivation(app, user, token);
      return { message: 'Compte validé avec succès', userId: user.id };
    },
  );

  app.patch(
    '/users/:id/suspendre',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur'] },
      preValidation: optionalBody,
      schema: {
        operationId: 'ptitspasSuspendUser',
        tags: ['ptitspas-users'],
        summary: 'Suspendre un compte : toutes ses sessions sont révoquées aussitôt',
        security,
        params: UserIdParams,
        body: StatusBody,
        response: { 200: AccountMessage, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      await suspendUser(app.systemDb, request.ptitspasUser, request.params.id, request.body.comment);
      return { message: 'Compte suspendu', userId: request.params.id };
    },
  );

  app.delete(
    '/users/:id',
    {
      config: { ptitspasRoles: ['super_admin'] },
      schema: {
        operationId: 'ptitspasDeleteUser',
        tags: ['ptitspas-users'],
        summary: 'Supprimer un compte et ce qui n’appartient qu’à lui',
        security,
        params: UserIdParams,
        response: { 200: Message, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      await deleteUser(app.systemDb, request.ptitspasUser, request.params.id);
      return { message: 'Utilisateur supprimé' };
    },
  );
};

export default userRoutes;
