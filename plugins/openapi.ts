import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { completeContract, type OpenApiDocument } from './openapi-contract.js';

/** Every tag an operation may carry, declared once with what it groups (generators use both). */
const TAGS = [
  { name: 'health', description: 'Liveness and readiness probes' },
  { name: 'auth', description: 'MedReport accounts: register, log in and out, refresh the token, reset a password' },
  { name: 'oauth', description: 'MedReport social login with Google, Facebook or GitHub' },
  {
    name: 'organization',
    description:
      'MedReport practices: create one with its owner, join one with its invitation code, rename, rotate the code',
  },
  { name: 'profile', description: 'MedReport: the signed-in user’s profile, avatar, e-mail address and password' },
  { name: 'patients', description: 'MedReport: the patients of the caller’s organization' },
  { name: 'prescriptions', description: 'MedReport: prescriptions of the organization’s patients' },
  { name: 'invoices', description: 'MedReport: invoices of the organization’s patients (amounts in minor units)' },
  { name: 'files', description: 'MedReport: documents attached to patients, prescriptions and invoices' },
  {
    name: 'documents',
    description:
      'MedReport: public verification of the PDFs of prescriptions and invoices by their code (no personal data)',
  },
  { name: 'reports', description: 'MedReport: overview counts and the organization’s activity log' },
  {
    name: 'sync',
    description:
      'MedReport offline sync: pull changes after a commit-ordered cursor, push idempotent batches, device status',
  },
  {
    name: 'admin',
    description: 'MedReport platform administration (platform administrators only): accounts and platform figures',
  },
  { name: 'ptitspas-root', description: 'PtitsPas (/api/v1): aperçu de l’API et endpoint de test' },
  {
    name: 'ptitspas-auth',
    description:
      'PtitsPas : connexion, inscription sans mot de passe (v1.3), rafraîchissement avec rotation, création du mot de passe par lien',
  },
  {
    name: 'ptitspas-users',
    description: 'PtitsPas : tous les comptes, leur validation et leur suspension (avec historique)',
  },
  { name: 'ptitspas-gestionnaires', description: 'PtitsPas : les comptes gestionnaires' },
  {
    name: 'ptitspas-parents',
    description: 'PtitsPas : les parents, par l’id de leur compte, et le lien entre co-parents',
  },
  {
    name: 'ptitspas-enfants',
    description:
      'PtitsPas : les enfants ; un parent ne voit que les siens et ceux de son co-parent, une assistante maternelle ceux de ses contrats signés en cours',
  },
  {
    name: 'ptitspas-assistantes-maternelles',
    description: 'PtitsPas : les assistantes maternelles, leur agrément, leurs places ; NIR chiffré au repos',
  },
  {
    name: 'ptitspas-uploads',
    description:
      'PtitsPas : les fichiers déposés (PDF, JPEG, PNG, WebP, 10 Mo au plus), type lu dans le contenu ; contenu avec ETag et Range',
  },
  {
    name: 'ptitspas-dossiers',
    description:
      'PtitsPas : le dossier d’inscription de chaque enfant (brouillon, soumis, valide, à compléter), ses pièces et son historique',
  },
  {
    name: 'ptitspas-contrats',
    description:
      'PtitsPas : les contrats d’accueil (brouillon, proposé, signé, terminé), rémunération calculée, signatures, PDF et vérification publique',
  },
  {
    name: 'ptitspas-evenements',
    description: 'PtitsPas : la journée d’un enfant (arrivée, repas, sieste, change, ...) et son journal du jour',
  },
  {
    name: 'ptitspas-messages',
    description:
      'PtitsPas : conversations entre parents, assistantes maternelles et personnel ; non lus et marques de lecture',
  },
  {
    name: 'ptitspas-notifications',
    description:
      'PtitsPas : ses notifications (écrites avec ce qui les cause), non lues, lecture, ticket du flux temps réel',
  },
];

/**
 * OpenAPI 3.1 generated from the routes' TypeBox schemas. Registered before any route so every
 * route is collected; served as JSON at /api/docs/json with Swagger UI at /api/docs.
 */
export default fp<{ version: string }>(
  async (app, { version }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'MedReport & PtitsPas API',
          version,
          license: { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' },
          description:
            'MedReport (medical practices, under /api) and PtitsPas (childcare, under /api/v1), served by one server.',
        },
        // Relative: the document is the same on every server, and calls go to the one serving it.
        servers: [{ url: '/' }],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'MedReport (/api): the `token` of login or registration',
            },
            ptitspasBearer: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'PtitsPas (/api/v1): the `access_token` of /api/v1/auth/login (15 minutes)',
            },
          },
        },
        tags: TAGS,
      },
      transformObject: (document) => {
        const { openapiObject } = document as Extract<typeof document, { openapiObject: unknown }>;
        completeContract(openapiObject as OpenApiDocument); // completes it in place
        return openapiObject;
      },
      // Shared schemas keep their $id as component name instead of def-0, def-1, ...
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { deepLinking: true } });
  },
  { name: 'openapi' },
);
