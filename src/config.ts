import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type Static, type TOptional, type TString, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { StorageSettings } from '../adapters/storage/index.js';
import type { NirKey } from '../domain/ptitspas/assistantes-maternelles/nir.js';
import type { CorsOrigins } from '../plugins/cors.js';
import type { HubLimits } from '../plugins/ptitspas/notification-hub.js';
import {
  OAUTH_PROVIDERS,
  type OAuthProviderConfig,
  type OAuthProviderName,
} from '../routes/medreport/oauth/provider-config.js';
import {
  looksLikePlaceholder,
  parseCorsOrigins,
  parseDuration,
  parseNirKeys,
  parseTrustProxy,
  reachableHost,
} from './config-values.js';

function oneOf<const T extends string[]>(values: T, fallback: T[number]) {
  return Type.Union(values.map((v) => Type.Literal(v)) as { [K in keyof T]: ReturnType<typeof Type.Literal<T[K]>> }, {
    default: fallback,
  });
}

function oauthVariables() {
  const url = Type.Optional(Type.String({ pattern: '^https?://' }));
  const vars: Record<string, TOptional<TString>> = {};
  for (const p of OAUTH_PROVIDERS) {
    const prefix = `OAUTH_${p.toUpperCase()}`;
    vars[`${prefix}_CLIENT_ID`] = Type.Optional(Type.String());
    vars[`${prefix}_CLIENT_SECRET`] = Type.Optional(Type.String());
    vars[`${prefix}_AUTHORIZE_URL`] = url;
    vars[`${prefix}_TOKEN_URL`] = url;
    vars[`${prefix}_USERINFO_URL`] = url;
  }
  return vars;
}

/** Every environment variable the server reads; the README's configuration table mirrors it. */
const EnvSchema = Type.Object({
  NODE_ENV: oneOf(['development', 'test', 'production'], 'development'),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_APP_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
  DATABASE_POOLER: oneOf(['none', 'transaction'], 'none'),
  DATABASE_LISTEN_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: '.data' }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  FILE_MAX_BYTES: Type.Integer({ minimum: 1024, default: 20 * 1024 * 1024 }),
  STORAGE: oneOf(['local', 's3'], 'local'),
  STORAGE_DIR: Type.Optional(Type.String({ minLength: 1 })),
  S3_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  S3_BUCKET: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' })),
  S3_REGION: Type.String({ minLength: 1, default: 'us-east-1' }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  S3_FORCE_PATH_STYLE: oneOf(['true', 'false'], 'false'),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ minLength: 3, default: 'MedReport <no-reply@localhost>' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 32, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' })),
  RATE_LIMITS: oneOf(['on', 'off'], 'on'),
  TRUST_PROXY: Type.String({ default: 'false' }),
  CORS_ORIGINS: Type.Optional(Type.String()),
  PASSWORD_HASH_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  SYNC_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  EXPORT_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
  EXPORT_CONCURRENCY_PER_ORGANIZATION: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
  EXPORT_STALL_TIMEOUT: Type.String({ pattern: '^[1-9][0-9]*[smhd]?$', default: '30s' }),
  LIVE_MAX_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  LIVE_MAX_PER_ACCOUNT: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  ACCESS_TOKEN_TTL: Type.String({ pattern: '^[1-9][0-9]*[smhd]?$', default: '1d' }),
  PASSWORD_RESET_URL: Type.Optional(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*://' })),
  OAUTH_SUCCESS_REDIRECT: Type.Optional(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*://' })),
  PTITSPAS_SET_PASSWORD_URL: Type.Optional(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*://' })),
  PTITSPAS_NIR_KEYS: Type.Optional(Type.String()),
  PTITSPAS_MAIL_FROM: Type.String({ minLength: 3, default: 'PtitsPas <no-reply@localhost>' }),
  ...oauthVariables(),
});

type Env = Static<typeof EnvSchema>;

/** Every variable's name (.env.example and the README's table list the same: tests/config.test.ts). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.properties);

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  /** Absent: the server starts an embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string;
  /**
   * How the server itself connects: a role without BYPASSRLS, so row-level security holds.
   * Absent: the `medreport_app` role is created/updated through DATABASE_URL (see db/app-role.ts).
   */
  databaseAppUrl?: string;
  databasePoolMax: number;
  /**
   * `transaction`: the app's connections go through a transaction pooler (PgBouncer in transaction
   * mode): statements are sent unnamed and nothing outlives a transaction (docs/scaling.md).
   */
  databasePooler: Env['DATABASE_POOLER'];
  /**
   * A direct connection of the app role, for LISTEN (a transaction pooler cannot hold one).
   * Absent: the app's own connection.
   */
  databaseListenUrl?: string;
  dataDir: string;
  /** Absent outside production: generated once and kept in `dataDir` (see resolveJwtSecret in config-values.ts). */
  jwtSecret?: string;
  logLevel: Env['LOG_LEVEL'];
  publicUrl: string;
  bodyLimit: number;
  /** Largest uploaded file (POST /api/files). */
  fileMaxBytes: number;
  /** Where uploaded bytes live, for both APIs (adapters/storage). */
  storage: StorageSettings;
  smtpUrl?: string;
  mailFrom: string;
  redisUrl?: string;
  jobsTickMs: number;
  /** Bearer token of GET /metrics; unset, the route is not served. */
  metricsToken?: string;
  rateLimits: boolean;
  /** Fastify's trustProxy: false, true, a hop count, or addresses/CIDRs of trusted proxies. */
  trustProxy: boolean | number | string;
  /** Browser origins allowed by CORS: a list, `*`, or every http(s)://localhost-like origin. */
  corsOrigins: CorsOrigins;
  accessTokenTtlSeconds: number;
  /**
   * Base of the link e-mailed for a password reset; `?token=...&email=...` is appended. Absent
   * (PASSWORD_RESET_URL unset): the link opens this server's own page, served only then
   * (routes/medreport/auth/reset-page.ts).
   */
  passwordResetUrl?: string;
  /**
   * PtitsPas: base of the link e-mailed at validation to choose a password; `?token=...` is appended.
   * Absent (PTITSPAS_SET_PASSWORD_URL unset): the link opens this server's own page, served only
   * then (routes/ptitspas/auth/set-password-page.ts).
   */
  ptitspasSetPasswordUrl?: string;
  /**
   * PtitsPas: keys encrypting childminders' social security numbers, the current one first.
   * Absent outside production: generated once and kept in `dataDir` (see resolveNirKeys in config-values.ts).
   */
  nirKeys?: NirKey[];
  /** PtitsPas: sender of its e-mails (MAIL_FROM is MedReport's). */
  ptitspasMailFrom: string;
  /** When set, a successful OAuth callback redirects here with `?token=...` (mobile deep link). */
  oauthSuccessRedirect?: string;
  /** Only the providers whose client id and secret are both set. */
  oauth: Partial<Record<OAuthProviderName, OAuthProviderConfig>>;
  /** argon2id cost; OWASP's minimum by default. Not read from the environment. */
  passwordHashing: { memoryCost: number; timeCost: number; parallelism: number };
  /** How long a 429 is held before it leaves (plugins/errors.ts, RefusalPacer). Not read from the environment. */
  refusalDelayMs: number;
  /**
   * Mean event-loop lag (ms) past which requests are refused with 503 (plugins/load-shedding.ts);
   * undefined: never. Not read from the environment.
   */
  maxEventLoopDelayMs?: number;
  /** argon2 hashes computed at once (the rest wait): every core but one by default. */
  passwordHashConcurrency: number;
  /** How long the sync feed keeps changes; an older cursor must resync from scratch (410). */
  syncRetentionDays: number;
  /**
   * CSV exports: how many stream at once (each holds a connection of the exports' own pool), how
   * many of them one organization may hold, and how long one may go without the client reading.
   */
  exports: { concurrency: number; perOrganization: number; stallTimeoutMs: number };
  /** PtitsPas live notifications (plugins/ptitspas/notification-hub.ts): sockets per instance and per account, ping, replay, send buffer. */
  live: HubLimits;
}

/**
 * What the app needs once the process has settled where the database is and which secret signs
 * tokens. `databaseUrl` is then the app role's connection (row-level security applies to it).
 */
export type AppConfig = Config & { databaseUrl: string; jwtSecret: string; nirKeys: NirKey[] };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const HINTS: Record<string, string> = {
  PORT: 'an integer between 0 and 65535',
  DATABASE_URL: 'a postgres:// or postgresql:// URL',
  DATABASE_APP_URL: 'a postgres:// or postgresql:// URL',
  DATABASE_POOL_MAX: 'an integer between 1 and 500',
  DATABASE_POOLER: 'one of none, transaction',
  DATABASE_LISTEN_URL: 'a postgres:// or postgresql:// URL',
  JWT_SECRET: 'at least 32 characters',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  PUBLIC_URL: 'an http:// or https:// URL',
  BODY_LIMIT: 'an integer number of bytes, at least 1024',
  FILE_MAX_BYTES: 'an integer number of bytes, at least 1024',
  STORAGE: '"local" or "s3"',
  S3_ENDPOINT: 'an http:// or https:// URL',
  S3_BUCKET: 'a bucket name (3-63 lowercase letters, digits, dots and hyphens)',
  S3_FORCE_PATH_STYLE: '"true" or "false"',
  SMTP_URL: 'an smtp:// or smtps:// URL',
  REDIS_URL: 'a redis:// or rediss:// URL',
  METRICS_TOKEN: '32 to 512 printable characters without spaces (e.g. $(openssl rand -hex 32))',
  RATE_LIMITS: '"on" or "off"',
  ACCESS_TOKEN_TTL: 'a duration such as 3600, 90s, 30m, 12h or 7d',
  TRUST_PROXY: 'true, false, a hop count, or proxy addresses/CIDRs separated by commas',
  PASSWORD_HASH_CONCURRENCY: 'an integer between 1 and 64',
  SYNC_RETENTION_DAYS: 'a number of days between 1 and 3650',
  EXPORT_CONCURRENCY: 'an integer between 1 and 100',
  EXPORT_CONCURRENCY_PER_ORGANIZATION: 'an integer between 1 and 100',
  LIVE_MAX_CONNECTIONS: 'an integer between 1 and 1000000',
  LIVE_MAX_PER_ACCOUNT: 'an integer between 1 and 100',
  EXPORT_STALL_TIMEOUT: 'a duration such as 30, 30s or 2m',
  CORS_ORIGINS: 'origins such as https://app.example.com separated by commas, * or none',
  PASSWORD_RESET_URL: 'an absolute URL (https://... or an app scheme such as medreport://...)',
  OAUTH_SUCCESS_REDIRECT: 'an absolute URL (https://... or an app scheme such as medreport://...)',
  PTITSPAS_NIR_KEYS:
    'keys "id:base64" separated by commas, each 32 random bytes, the current one first (e.g. "k1:$(openssl rand -base64 32)")',
  PTITSPAS_SET_PASSWORD_URL: 'an absolute URL (https://... or an app scheme such as ptitspas://...)',
  NODE_ENV: 'one of development, test, production',
};

// May hold credentials: an error names them but never echoes their value.
const SECRET_VARS = new Set([
  'DATABASE_URL',
  'DATABASE_APP_URL',
  'DATABASE_LISTEN_URL',
  'JWT_SECRET',
  'SMTP_URL',
  'REDIS_URL',
  'METRICS_TOKEN',
  'PTITSPAS_NIR_KEYS',
  'S3_SECRET_ACCESS_KEY',
  ...OAUTH_PROVIDERS.map((p) => `OAUTH_${p.toUpperCase()}_CLIENT_SECRET`),
]);

/** Parses the environment once; throws a ConfigError whose message names the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  const [first] = Value.Errors(EnvSchema, env);
  if (first) {
    const name = first.path.replace(/^\//, '');
    const hint = HINTS[name] ?? first.message;
    const got = SECRET_VARS.has(name) ? 'value hidden' : `got ${JSON.stringify(source[name])}`;
    throw new ConfigError(`${name} must be ${hint} (${got})`);
  }
  const e = env as Env;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && e.JWT_SECRET && looksLikePlaceholder(e.JWT_SECRET)) {
    throw new ConfigError(
      'JWT_SECRET looks like a placeholder (value hidden); set a random one, e.g. `openssl rand -base64 48`',
    );
  }
  if (e.NODE_ENV === 'production' && !e.PTITSPAS_NIR_KEYS) {
    throw new ConfigError('PTITSPAS_NIR_KEYS is required when NODE_ENV=production');
  }
  if (e.DATABASE_POOLER === 'transaction' && e.DATABASE_URL && !e.DATABASE_LISTEN_URL) {
    throw new ConfigError(
      'DATABASE_LISTEN_URL is required when DATABASE_POOLER=transaction: LISTEN needs a direct connection to PostgreSQL',
    );
  }
  const invalid = (name: string) =>
    new ConfigError(`${name} must be ${HINTS[name]} (got ${JSON.stringify(source[name])})`);
  const trustProxy = parseTrustProxy(e.TRUST_PROXY);
  if (trustProxy === undefined) throw invalid('TRUST_PROXY');
  const nirKeys = e.PTITSPAS_NIR_KEYS === undefined ? undefined : parseNirKeys(e.PTITSPAS_NIR_KEYS);
  if (nirKeys === undefined && e.PTITSPAS_NIR_KEYS !== undefined) {
    throw new ConfigError(`PTITSPAS_NIR_KEYS must be ${HINTS.PTITSPAS_NIR_KEYS} (value hidden)`);
  }
  const corsOrigins = parseCorsOrigins(e.CORS_ORIGINS, e.NODE_ENV);
  if (corsOrigins === undefined) throw invalid('CORS_ORIGINS');
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://${reachableHost(e.HOST)}:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databaseAppUrl: e.DATABASE_APP_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databasePooler: e.DATABASE_POOLER,
    databaseListenUrl: e.DATABASE_LISTEN_URL,
    dataDir,
    jwtSecret: e.JWT_SECRET,
    logLevel: e.LOG_LEVEL,
    publicUrl,
    bodyLimit: e.BODY_LIMIT,
    fileMaxBytes: e.FILE_MAX_BYTES,
    storage: storageSettings(e, dataDir),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    redisUrl: e.REDIS_URL,
    metricsToken: e.METRICS_TOKEN,
    rateLimits: e.RATE_LIMITS === 'on',
    trustProxy,
    corsOrigins,
    accessTokenTtlSeconds: parseDuration(e.ACCESS_TOKEN_TTL),
    passwordResetUrl: e.PASSWORD_RESET_URL,
    oauthSuccessRedirect: e.OAUTH_SUCCESS_REDIRECT,
    ptitspasSetPasswordUrl: e.PTITSPAS_SET_PASSWORD_URL,
    ptitspasMailFrom: e.PTITSPAS_MAIL_FROM,
    nirKeys,
    oauth: parseOAuth(raw as Record<string, string | undefined>),
    passwordHashing: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
    refusalDelayMs: 1_000,
    maxEventLoopDelayMs: 1_000,
    // Every core but one by default, so the event loop keeps a core during a login storm.
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY ?? Math.max(1, availableParallelism() - 1),
    syncRetentionDays: e.SYNC_RETENTION_DAYS,
    exports: {
      concurrency: e.EXPORT_CONCURRENCY,
      perOrganization: Math.min(e.EXPORT_CONCURRENCY_PER_ORGANIZATION, e.EXPORT_CONCURRENCY),
      stallTimeoutMs: parseDuration(e.EXPORT_STALL_TIMEOUT) * 1000,
    },
    // How often each instance looks for due cluster jobs (plugins/jobs.ts).
    jobsTickMs: 30_000,
    live: {
      total: e.LIVE_MAX_CONNECTIONS,
      perAccount: e.LIVE_MAX_PER_ACCOUNT,
      pingMs: 30_000,
      replay: 1_000,
      // A full replay (1 000 short notifications, ~0.5 MB) must fit at once.
      maxBufferedBytes: 1024 * 1024,
    },
  });
}

function storageSettings(e: Env, dataDir: string): StorageSettings {
  if (e.STORAGE === 'local')
    return { backend: 'local', root: path.resolve(e.STORAGE_DIR ?? path.join(dataDir, 'files')) };
  if (!e.S3_BUCKET) throw new ConfigError('S3_BUCKET is required when STORAGE=s3');
  if (!e.S3_ACCESS_KEY_ID !== !e.S3_SECRET_ACCESS_KEY) {
    throw new ConfigError(
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (or neither: the AWS default chain)',
    );
  }
  return {
    backend: 's3',
    endpoint: e.S3_ENDPOINT,
    bucket: e.S3_BUCKET,
    region: e.S3_REGION,
    accessKeyId: e.S3_ACCESS_KEY_ID,
    secretAccessKey: e.S3_SECRET_ACCESS_KEY,
    forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
    // A write is spooled here before it goes to the bucket (S3 wants its length up front).
    spoolDir: path.join(dataDir, 'spool'),
  };
}

function parseOAuth(env: Record<string, string | undefined>): Config['oauth'] {
  const oauth: Config['oauth'] = {};
  for (const provider of OAUTH_PROVIDERS) {
    const prefix = `OAUTH_${provider.toUpperCase()}`;
    const clientId = env[`${prefix}_CLIENT_ID`];
    const clientSecret = env[`${prefix}_CLIENT_SECRET`];
    if (!clientId && !clientSecret) continue;
    if (!clientId || !clientSecret) {
      throw new ConfigError(`${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET must be set together`);
    }
    oauth[provider] = {
      clientId,
      clientSecret,
      authorizeUrl: env[`${prefix}_AUTHORIZE_URL`],
      tokenUrl: env[`${prefix}_TOKEN_URL`],
      userinfoUrl: env[`${prefix}_USERINFO_URL`],
    };
  }
  return oauth;
}

/** Reads `.env` from the working directory when present; variables already set win. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
