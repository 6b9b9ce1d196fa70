import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getDossier, listDossiers } from '../../../domain/ptitspas/dossiers/queries.js';
import { decideDossier, saveDossier, submitDossier } from '../../../domain/ptitspas/dossiers/writes.js';
import { optionalBody } from '../../../plugins/boundary.js';
import { authenticatedErrors as errors, plainJson, security } from '../responses.js';
import {
  CompleterBody,
  Dossier,
  DossierBody,
  DossierList,
  DossierQuery,
  EnfantParams,
  ValiderBody,
} from './schemas.js';

const tags = ['ptitspas-dossiers'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;
const STAFF = ['super_admin', 'administrateur', 'gestionnaire'] as const;

/**
 * /dossiers: one enrolment dossier per child, addressed by the child's id. Who sees it is who
 * sees the child (domain/ptitspas/enfants/visibility.ts); the states and their steps are in
 * domain/ptitspas/dossiers/writes.ts.
 */
const dossierRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/dossiers',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      ...plainJson,
      schema: {
        operationId: 'ptitspasListDossiers',
        tags,
        summary: 'Les dossiers des enfants que l’on voit (paginée, total dans X-Total-Count)',
        security,
        querystring: DossierQuery,
        response: { 200: DossierList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listDossiers(app.systemDb, request.ptitspasUser, request.query);
      // Their JSON parts are JsonText, which plainJson writes as they are: the same answer.
      return reply.header('x-total-count', total).send(rows as unknown as Dossier[]);
    },
  );

  app.get(
    '/dossiers/:id_enfant',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      ...plainJson,
      schema: {
        operationId: 'ptitspasGetDossier',
        tags,
        summary: "Le dossier d'un enfant que l'on voit ; 404 avant le premier PUT",
        security,
        params: EnfantParams,
        response: { 200: Dossier, ...errors(400, 404) },
      },
    },
    async (request) => getDossier(app.systemDb, request.ptitspasUser, request.params.id_enfant),
  );

  app.put(
    '/dossiers/:id_enfant',
    {
      config: { ptitspasRoles: [...STAFF, 'parent'] },
      schema: {
        operationId: 'ptitspasSaveDossier',
        tags,
        summary: "Écrire le dossier (le crée la première fois) : les parents de l'enfant, le personnel",
        security,
        params: EnfantParams,
        body: DossierBody,
        response: { 200: Dossier, ...errors(400, 404, 409) },
      },
    },
    async (request) => saveDossier(app.systemDb, request.ptitspasUser, request.params.id_enfant, request.body),
  );

  app.patch(
    '/dossiers/:id_enfant/soumettre',
    {
      config: { ptitspasRoles: ['parent'] },
      schema: {
        operationId: 'ptitspasSubmitDossier',
        tags,
        summary: 'Soumettre le dossier : 400 en nommant chaque élément manquant',
        security,
        params: EnfantParams,
        response: { 200: Dossier, ...errors(400, 404, 409) },
      },
    },
    async (request) => submitDossier(app.systemDb, request.ptitspasUser, request.params.id_enfant),
  );

  app.patch(
    '/dossiers/:id_enfant/valider',
    {
      config: { ptitspasRoles: STAFF },
      preValidation: optionalBody,
      schema: {
        operationId: 'ptitspasValidateDossier',
        tags,
        summary: 'Valider un dossier soumis (409 sinon)',
        security,
        params: EnfantParams,
        body: ValiderBody,
        response: { 200: Dossier, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      decideDossier(
        app.systemDb,
        request.ptitspasUser,
        request.params.id_enfant,
        'valide',
        request.body?.commentaire ?? null,
      ),
  );

  app.patch(
    '/dossiers/:id_enfant/completer',
    {
      config: { ptitspasRoles: STAFF },
      schema: {
        operationId: 'ptitspasAskDossierCompletion',
        tags,
        summary: 'Demander de compléter un dossier soumis (commentaire obligatoire ; 409 sinon)',
        security,
        params: EnfantParams,
        body: CompleterBody,
        response: { 200: Dossier, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      decideDossier(
        app.systemDb,
        request.ptitspasUser,
        request.params.id_enfant,
        'a_completer',
        request.body.commentaire,
      ),
  );
};

export default dossierRoutes;
