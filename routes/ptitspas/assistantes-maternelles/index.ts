import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NirCipher } from '../../../domain/ptitspas/assistantes-maternelles/nir.js';
import {
  getAssistanteMaternelle,
  listAssistantesMaternelles,
} from '../../../domain/ptitspas/assistantes-maternelles/queries.js';
import {
  createAssistanteMaternelle,
  deleteAssistanteMaternelle,
  updateAssistanteMaternelle,
} from '../../../domain/ptitspas/assistantes-maternelles/writes.js';
import { sendActivation } from '../auth/activation.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { Message, UserIdParams } from '../users/schemas.js';
import {
  AssistanteMaternelle,
  AssistanteMaternelleList,
  AssistanteMaternelleQuery,
  CreateAssistanteMaternelleBody,
  UpdateAssistanteMaternelleBody,
} from './schemas.js';

const tags = ['ptitspas-assistantes-maternelles'];
const STAFF = ['super_admin', 'gestionnaire'] as const;

/** /assistantes-maternelles, keyed by the childminder's account id; the NIR is encrypted at rest. */
const assistanteMaternelleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const cipher = new NirCipher(app.config.nirKeys);

  app.get(
    '/assistantes-maternelles',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasListAssistantesMaternelles',
        tags,
        summary: 'Liste des assistantes maternelles (paginée, total dans X-Total-Count)',
        security,
        querystring: AssistanteMaternelleQuery,
        response: { 200: AssistanteMaternelleList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listAssistantesMaternelles(app.systemDb, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/assistantes-maternelles/:id',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasGetAssistanteMaternelle',
        tags,
        summary: 'Une assistante maternelle, par l’id de son compte (NIR en clair pour ces rôles)',
        security,
        params: UserIdParams,
        response: { 200: AssistanteMaternelle, ...errors(400, 404) },
      },
    },
    async (request) => getAssistanteMaternelle(app.systemDb, cipher, request.ptitspasUser, request.params.id),
  );

  app.post(
    '/assistantes-maternelles',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasCreateAssistanteMaternelle',
        tags,
        summary: 'Créer une assistante maternelle, active ; sans mot de passe, un lien pour le choisir est envoyé',
        security,
        body: CreateAssistanteMaternelleBody,
        response: { 201: AssistanteMaternelle, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { password } = request.body;
      const passwordHash = password === undefined ? null : await app.passwords.for(request).hash(password);
      const { user, token, assistanteMaternelle } = await createAssistanteMaternelle(
        app.systemDb,
        cipher,
        request.ptitspasUser,
        request.body,
        passwordHash,
      );
      sendActivation(app, user, token);
      return reply.code(201).send(assistanteMaternelle);
    },
  );

  app.patch(
    '/assistantes-maternelles/:id',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasUpdateAssistanteMaternelle',
        tags,
        summary: 'Modifier une assistante maternelle (places, disponibilité, agrément, NIR…)',
        security,
        params: UserIdParams,
        body: UpdateAssistanteMaternelleBody,
        response: { 200: AssistanteMaternelle, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      updateAssistanteMaternelle(app.systemDb, cipher, request.ptitspasUser, request.params.id, request.body),
  );

  app.delete(
    '/assistantes-maternelles/:id',
    {
      config: { ptitspasRoles: ['super_admin', 'gestionnaire', 'administrateur'] },
      schema: {
        operationId: 'ptitspasDeleteAssistanteMaternelle',
        tags,
        summary: 'Supprimer une assistante maternelle et son compte',
        security,
        params: UserIdParams,
        response: { 200: Message, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      await deleteAssistanteMaternelle(app.systemDb, request.ptitspasUser, request.params.id);
      return { message: 'Assistante maternelle supprimée' };
    },
  );
};

export default assistanteMaternelleRoutes;
