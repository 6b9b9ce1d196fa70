import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../plugins/errors.js';
import { sendActivation } from '../auth/links.js';
import { TotalHeader } from '../lists.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { createActiveUser } from '../users/create.js';
import { Message, UserIdParams } from '../users/schemas.js';
import { deleteUser } from '../users/status.js';
import { NirCipher } from './nir.js';
import {
  AM_NOT_FOUND,
  findAssistanteMaternelle,
  insertAssistanteMaternelle,
  listAssistantesMaternelles,
  updateAssistanteMaternelle,
} from './queries.js';
import {
  AssistanteMaternelle,
  AssistanteMaternelleQuery,
  AssistanteMaternelleSummary,
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
        response: { 200: { ...Type.Array(AssistanteMaternelleSummary), headers: TotalHeader }, ...errors(400) },
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
    async (request) => {
      const found = await findAssistanteMaternelle(app.systemDb, cipher, request.ptitspasUser, request.params.id);
      if (!found) throw notFound(AM_NOT_FOUND);
      return found;
    },
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
      const { email, password, prenom, nom, telephone, adresse, ...profile } = request.body;
      const { user, token } = await createActiveUser(
        app.systemDb,
        app.passwords.for(request),
        { email, prenom, nom, telephone, adresse },
        'assistante_maternelle',
        password,
        (trx, id) => insertAssistanteMaternelle(trx, id, profile, cipher),
      );
      sendActivation(app, user, token);
      return reply.code(201).send((await findAssistanteMaternelle(app.systemDb, cipher, request.ptitspasUser, user.id))!);
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
    async (request) => {
      const { id } = request.params;
      await app.systemDb.transaction().execute((trx) => updateAssistanteMaternelle(trx, cipher, id, request.body));
      return (await findAssistanteMaternelle(app.systemDb, cipher, request.ptitspasUser, id))!;
    },
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
        response: { 200: Message, ...errors(400, 404) },
      },
    },
    async (request) => {
      await deleteUser(app.systemDb, request.ptitspasUser, request.params.id, {
        role: 'assistante_maternelle',
        missing: AM_NOT_FOUND,
      });
      return { message: 'Assistante maternelle supprimée' };
    },
  );
};

export default assistanteMaternelleRoutes;
