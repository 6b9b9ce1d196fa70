import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const Api = Type.Object({
  name: Type.String(),
  base: Type.String({ description: 'path every route of this API starts with' }),
  spec: Type.String({ description: 'the specification it implements' }),
});
const Index = Type.Object({
  apis: Type.Array(Api),
  docs: Type.String({ description: 'interactive documentation of both APIs' }),
  openapi: Type.String({ description: 'the OpenAPI document of both APIs' }),
  health: Type.String(),
  ready: Type.String(),
});

const INDEX = {
  apis: [
    { name: 'MedReport', base: '/api', spec: 'medreport-api.md' },
    { name: 'PtitsPas', base: '/api/v1', spec: 'ptitspas-api.md, ptitspas-evolutions.md' },
  ],
  docs: '/api/docs',
  openapi: '/api/docs/json',
  health: '/health',
  ready: '/ready',
};

/**
 * What this server is, for whoever opens its address or `/api` by hand: both APIs, their
 * documentation and the probes (links relative to the server, so they hold behind a proxy).
 */
const root: FastifyPluginAsyncTypebox = async (app) => {
  for (const url of ['/', '/api']) {
    app.get(
      url,
      {
        schema: {
          operationId: url === '/' ? 'serverIndex' : 'apiIndex',
          tags: ['health'],
          summary: 'Both APIs, their documentation and the health probes',
          response: { 200: Index },
        },
      },
      async () => INDEX,
    );
  }
};

export default root;
