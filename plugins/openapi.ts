import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/**
 * OpenAPI 3.1 generated from the routes' TypeBox schemas. Registered before any route so every
 * route is collected; served as JSON at /api/docs/json with Swagger UI at /api/docs.
 */
export default fp<{ publicUrl: string }>(
  async (app, { publicUrl }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'MedReport & PtitsPas API',
          version: '1.0.0',
          description:
            'MedReport (medical practices, under /api) and PtitsPas (childcare, under /api/v1), served by one server.',
        },
        servers: [{ url: publicUrl }],
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        tags: [{ name: 'health', description: 'Liveness and readiness probes' }],
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
