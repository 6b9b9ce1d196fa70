import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFound } from '../../../domain/errors.js';
import { partiesOf, renderContrat } from '../../../domain/ptitspas/contrats/document.js';
import {
  findContrat,
  getContrat,
  listContrats,
  shown,
  verifyContrat,
} from '../../../domain/ptitspas/contrats/queries.js';
import {
  contratDocuments,
  createContrat,
  proposeContrat,
  signContrat,
  terminateContrat,
  updateContrat,
} from '../../../domain/ptitspas/contrats/writes.js';
import { errorResponses } from '../../../plugins/errors.js';
import { attachment, etagMatches } from '../../shared/downloads.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import {
  CodeParams,
  Contrat,
  ContratBody,
  ContratChanges,
  ContratList,
  ContratParams,
  ContratQuery,
  PdfDocument,
  TerminerBody,
  Verification,
} from './schemas.js';

const tags = ['ptitspas-contrats'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;
const STAFF = ['super_admin', 'administrateur', 'gestionnaire'] as const;

/**
 * /contrats: childminding contracts between a parent (the employer) and a childminder for one
 * child. Who reads one is in domain/ptitspas/contrats/queries.ts; the states, signatures and
 * places in domain/ptitspas/contrats/writes.ts; the pay in pay.ts and rules.ts.
 */
export const contratRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const documents = contratDocuments(app.storage, app.config.publicUrl);

  app.post(
    '/contrats',
    {
      config: { ptitspasRoles: [...STAFF, 'parent'] },
      schema: {
        operationId: 'ptitspasCreateContrat',
        tags,
        summary: 'Créer un contrat (brouillon) : un parent de l’enfant, le personnel ; la rémunération est calculée',
        security,
        body: ContratBody,
        response: { 201: Contrat, ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createContrat(app.systemDb, request.ptitspasUser, request.body)),
  );

  app.get(
    '/contrats',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasListContrats',
        tags,
        summary: 'Les contrats dont on est partie (tous pour le personnel), paginée, total dans X-Total-Count',
        security,
        querystring: ContratQuery,
        response: { 200: ContratList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listContrats(app.systemDb, request.ptitspasUser, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/contrats/:id',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetContrat',
        tags,
        summary: 'Un contrat : ses parties (parent employeur, l’autre parent, l’assistante maternelle), le personnel',
        security,
        params: ContratParams,
        response: { 200: Contrat, ...errors(400, 404) },
      },
    },
    async (request) => getContrat(app.systemDb, request.ptitspasUser, request.params.id),
  );

  app.patch(
    '/contrats/:id',
    {
      config: { ptitspasRoles: [...STAFF, 'parent'] },
      schema: {
        operationId: 'ptitspasUpdateContrat',
        tags,
        summary: 'Modifier un brouillon (409 sinon) : son auteur, le personnel',
        security,
        params: ContratParams,
        body: ContratChanges,
        response: { 200: Contrat, ...errors(400, 404, 409) },
      },
    },
    async (request) => updateContrat(app.systemDb, request.ptitspasUser, request.params.id, request.body),
  );

  app.patch(
    '/contrats/:id/proposer',
    {
      config: { ptitspasRoles: [...STAFF, 'parent'] },
      schema: {
        operationId: 'ptitspasProposeContrat',
        tags,
        summary: 'Proposer le brouillon à la signature (409 sinon) ; l’autre partie est notifiée',
        security,
        params: ContratParams,
        response: { 200: Contrat, ...errors(400, 404, 409) },
      },
    },
    async (request) => proposeContrat(app.systemDb, request.ptitspasUser, request.params.id),
  );

  app.patch(
    '/contrats/:id/signer',
    {
      config: { ptitspasRoles: ['parent', 'assistante_maternelle'] },
      schema: {
        operationId: 'ptitspasSignContrat',
        tags,
        summary:
          'Signer (le parent employeur, l’assistante maternelle) ; signé par les deux : « signe », document signé archivé ; 409 au-delà de nb_max_enfants',
        security,
        params: ContratParams,
        response: { 200: Contrat, ...errors(400, 404, 409) },
      },
    },
    async (request) => signContrat(app.systemDb, documents, request.ptitspasUser, request.params.id),
  );

  app.patch(
    '/contrats/:id/terminer',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasTerminateContrat',
        tags,
        summary: 'Mettre fin à un contrat signé (409 sinon) : une partie, le personnel ; la place est rendue',
        security,
        params: ContratParams,
        body: TerminerBody,
        response: { 200: Contrat, ...errors(400, 404, 409) },
      },
    },
    async (request) => terminateContrat(app.systemDb, request.ptitspasUser, request.params.id, request.body),
  );

  app.get(
    '/contrats/:id/pdf',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetContratPdf',
        tags,
        summary: 'Le contrat en PDF : « BROUILLON » avant signature, puis le document signé archivé',
        security,
        params: ContratParams,
        response: {
          200: PdfDocument,
          304: { description: 'Non modifié (If-None-Match)', type: 'null' },
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const row = await findContrat(app.systemDb, request.ptitspasUser, request.params.id);
      reply
        .type('application/pdf')
        .header('content-disposition', attachment(`contrat-${row.date_debut}.pdf`))
        .header('x-content-type-options', 'nosniff');
      if (row.document_cle && row.document_sha256) {
        // Signed: always the same bytes, the ones the verification route's sha256 names.
        const etag = `"${row.document_sha256}"`;
        reply.header('etag', etag).header('cache-control', 'private, no-cache');
        if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
        const bytes = await app.storage.get(row.document_cle);
        if (!bytes) throw new NotFound('Document du contrat introuvable');
        return reply.header('content-length', bytes.size).send(bytes.stream);
      }
      const contrat = shown(row);
      const parties = await partiesOf(app.systemDb, contrat);
      reply.header('cache-control', 'no-store');
      return reply.send(
        renderContrat(contrat, parties, documents.verificationUrl(row.code_verification), { draft: true }),
      );
    },
  );
};

/** GET /verification/:code, public and rate-limited with the other public routes: what a document's holder may check. */
export const verificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/verification/:code',
    {
      schema: {
        operationId: 'ptitspasVerifyDocument',
        tags,
        summary:
          'Vérifier un contrat par son code : statut, date de signature, SHA-256 du document signé ; rien de personnel',
        params: CodeParams,
        response: { 200: Verification, ...errorResponses('ptitspas', 404, 429) },
      },
    },
    async (request) => verifyContrat(app.systemDb, request.params.code),
  );
};
