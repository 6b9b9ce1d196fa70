import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import background from '../plugins/background.js';
import boundary, { parseQuerystring, strictValidators } from '../plugins/boundary.js';
import cors from '../plugins/cors.js';
import db from '../plugins/db.js';
import {
  frameworkErrors,
  installErrorHandlers,
  MedReportError,
  PtitsPasError,
  RefusalPacer,
} from '../plugins/errors.js';
import jobs from '../plugins/jobs.js';
import loadShedding from '../plugins/load-shedding.js';
import mailer from '../plugins/mailer.js';
import exportsPlugin from '../plugins/medreport/exports.js';
import sessionCache from '../plugins/medreport/session-cache.js';
import metrics from '../plugins/metrics.js';
import openapi from '../plugins/openapi.js';
import passwords from '../plugins/passwords.js';
import ptitspasCallerCache from '../plugins/ptitspas/caller-cache.js';
import ptitspasLive from '../plugins/ptitspas/live.js';
import rateLimit from '../plugins/rate-limit.js';
import { sharedSerializers } from '../plugins/response-serializers.js';
import routeTable from '../plugins/route-table.js';
import storage from '../plugins/storage.js';
import health from '../routes/health.js';
import resetPasswordPage from '../routes/medreport/auth/reset-page.js';
import medreport from '../routes/medreport/index.js';
import metricsRoute from '../routes/metrics.js';
import setPasswordPage from '../routes/ptitspas/auth/set-password-page.js';
import ptitspas from '../routes/ptitspas/index.js';
import root from '../routes/root.js';
import type { AppConfig } from './config.js';
import { createLogger, OneLinePerRequest, requestLogger } from './logging.js';
import { VERSION } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface BuildOptions {
  /** The process logger (server.ts shares it with the embedded database); a new one otherwise. */
  logger?: FastifyBaseLogger;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the whole server, both APIs included, without listening: server.ts and tests share it. */
export async function buildApp(config: AppConfig, options: BuildOptions = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger ?? createLogger(config.logLevel),
    bodyLimit: config.bodyLimit,
    // A hop count is valid at run time; Fastify's types only miss it.
    trustProxy: config.trustProxy as boolean | string,
    // A caller's well-formed X-Request-Id is kept so logs can be joined across services.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true } },
    // Fastify types buildValidator's factory narrower than the (ajv-compiler) factory it accepts.
    schemaController: {
      compilersFactory: { buildValidator: strictValidators() as never, buildSerializer: sharedSerializers() as never },
    },
    routerOptions: { querystringParser: parseQuerystring },
    frameworkErrors,
    // One line per request, when it is answered, instead of Fastify's two.
    logController: new OneLinePerRequest(),
    childLoggerFactory: requestLogger as never,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  app.decorate('refusalPacer', new RefusalPacer(config.refusalDelayMs));
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  // Outside both API trees (/health, /api/docs, unknown paths): MedReport's shape. Each tree
  // installs its own error and not-found handlers, token verifier and role guard.
  installErrorHandlers(app, 'medreport');
  app.addSchema(MedReportError);
  app.addSchema(PtitsPasError);
  await app.register(boundary);
  await app.register(metrics);
  // Refuses requests (503) only while the event loop lags a whole second on average: a process
  // that far behind answers nothing in time anyway. /health is still answered.
  await app.register(loadShedding, { maxEventLoopDelayMs: config.maxEventLoopDelayMs });
  await app.register(routeTable);
  await app.register(cors, { origins: config.corsOrigins });
  const namedStatements = config.databasePooler === 'none';
  const listenUrl = config.databaseListenUrl ?? config.databaseUrl;
  await app.register(db, { url: config.databaseUrl, poolMax: config.databasePoolMax, namedStatements });
  await app.register(jobs, { tickMs: config.jobsTickMs });
  await app.register(exportsPlugin, { url: config.databaseUrl, namedStatements, ...config.exports });
  await app.register(openapi, { version: VERSION });
  await app.register(sessionCache, { listenUrl });
  await app.register(ptitspasCallerCache, { listenUrl });
  await app.register(ptitspasLive, { listenUrl, limits: config.live });
  await app.register(rateLimit, { enabled: config.rateLimits, redisUrl: config.redisUrl });
  await app.register(passwords, { cost: config.passwordHashing, concurrency: config.passwordHashConcurrency });
  await app.register(mailer, { smtpUrl: config.smtpUrl, from: config.mailFrom });
  await app.register(storage, { settings: config.storage });
  await app.register(background, { maxPending: 1_000 });

  await app.register(health);
  await app.register(root);
  await app.register(metricsRoute);
  await app.register(medreport, { prefix: '/api' });
  await app.register(ptitspas, { prefix: '/api/v1' });
  // The pages the e-mailed password links open when no app page is configured (outside both trees).
  await app.register(resetPasswordPage);
  await app.register(setPasswordPage);
  return app;
}
