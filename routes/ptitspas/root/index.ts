import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const Overview = Type.Object(
  {
    message: Type.String(),
    version: Type.String(),
    endpoints: Type.Object({
      auth: Type.String(),
      users: Type.String(),
      parents: Type.String(),
      enfants: Type.String(),
      'assistantes-maternelles': Type.String(),
      gestionnaires: Type.String(),
    }),
  },
  { $id: 'PtitsPasOverview' },
);

const OVERVIEW = {
  message: "Bienvenue sur l'API PtitsPas",
  version: '1.0.0',
  endpoints: {
    auth: '/api/v1/auth',
    users: '/api/v1/users',
    parents: '/api/v1/parents',
    enfants: '/api/v1/enfants',
    'assistantes-maternelles': '/api/v1/assistantes-maternelles',
    gestionnaires: '/api/v1/gestionnaires',
  },
};

/** GET / and GET /hello, public, exactly as the document shows them. */
const rootRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const schema = {
    operationId: 'ptitspasOverview',
    tags: ['ptitspas-root'],
    summary: 'Aperçu de l’API',
    response: { 200: Overview },
  };
  app.get('', { schema, prefixTrailingSlash: 'no-slash' }, async () => OVERVIEW);
  // The same answer with a trailing slash, kept out of the OpenAPI document (one operation).
  app.get('/', { schema: { ...schema, hide: true }, prefixTrailingSlash: 'slash' }, async () => OVERVIEW);

  app.get(
    '/hello',
    {
      schema: {
        operationId: 'ptitspasHello',
        tags: ['ptitspas-root'],
        summary: 'Endpoint de test',
        response: { 200: { description: 'Hello World!', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send('Hello World!'),
  );
};

export default rootRoutes;
