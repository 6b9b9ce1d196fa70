import cors from '@fastify/cors';
import fp from 'fastify-plugin';

const LOCALHOST = /^https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

/**
 * Browsers (Swagger UI's "Try it out", a Flutter web build) may call the APIs from the origins in
 * CORS_ORIGINS; without it, from any localhost origin outside production and from none in
 * production. Requests without an Origin (mobile apps, curl) are not affected.
 */
/** A list of origins, any origin, or any localhost origin. */
export type CorsOrigins = string[] | '*' | 'localhost';

export default fp<{ origins: CorsOrigins }>(
  async (app, { origins }) => {
    const allowed = (origin: string | undefined) =>
      origin !== undefined &&
      (origins === 'localhost' ? LOCALHOST.test(origin) : Array.isArray(origins) && origins.includes(origin));
    await app.register(cors, {
      origin: origins === '*' ? '*' : (origin, done) => done(null, allowed(origin)),
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'accept-language', 'x-request-id', 'x-device-id'],
      exposedHeaders: ['x-request-id', 'x-total-count', 'retry-after', 'content-disposition', 'etag'],
      maxAge: 600,
    });
  },
  { name: 'cors' },
);
