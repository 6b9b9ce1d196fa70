import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { NirKey } from '../domain/ptitspas/assistantes-maternelles/nir.js';
import type { CorsOrigins } from '../plugins/cors.js';

// The values of src/config.ts that need more than the schema: durations, proxy trust, CORS origins,
// NIR keys, and the secrets generated once outside production.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function parseDuration(value: string): number {
  const unit = /[smhd]$/.test(value) ? value.slice(-1) : 's';
  return Number.parseInt(value, 10) * UNIT_SECONDS[unit]!;
}

// What deployment templates ship as a secret to replace (docker-compose.yml's included).
const PLACEHOLDER =
  /change[-_ ]?me|changeit|replace[-_ ]?(?:me|this)|placeholder|your[-_ ]?(?:jwt[-_ ]?)?secret|example/i;

/** A template's value, or too few distinct characters to be a random secret. */
export const looksLikePlaceholder = (secret: string) => PLACEHOLDER.test(secret) || new Set(secret).size < 10;

/** Where the server can be reached from this machine when it listens on every interface. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIP(host) === 6 ? `[${host}]` : host;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** true, false, a hop count, or addresses/CIDRs (as proxy-addr reads them); undefined if invalid. */
export function parseTrustProxy(value: string): boolean | number | string | undefined {
  if (value === 'false' || value === '') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const valid = value.split(',').every((entry) => {
    const [address = '', prefix, ...rest] = entry.trim().split('/');
    if (rest.length > 0) return false;
    if (prefix === undefined) return PROXY_NAMES.has(address) || isIP(address) !== 0;
    const max = isIP(address) === 4 ? 32 : isIP(address) === 6 ? 128 : -1;
    return (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max) || (max === 32 && isIP(prefix) === 4);
  });
  return valid ? value : undefined;
}

/** Unset: any localhost origin outside production, none in production. Undefined if invalid. */
export function parseCorsOrigins(value: string | undefined, env: string): CorsOrigins | undefined {
  if (value === undefined) return env === 'production' ? [] : 'localhost';
  if (value.trim() === 'none') return [];
  if (value.trim() === '*') return '*';
  const origins = value.split(',').map((o) => o.trim().replace(/\/+$/, ''));
  return origins.every((o) => /^https?:\/\/[^/\s]+$/.test(o)) ? origins : undefined;
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept in the data directory,
 * so tokens survive restarts without any setup.
 */
export async function resolveJwtSecret(config: { jwtSecret?: string; dataDir: string }): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(48).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return secret;
}

const NIR_KEY = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/]{43}=)$/;

/** `id:base64,id:base64` (32-byte keys, distinct ids, the current one first); undefined when malformed. */
export function parseNirKeys(value: string): NirKey[] | undefined {
  const keys: NirKey[] = [];
  for (const entry of value.split(',')) {
    const match = NIR_KEY.exec(entry.trim());
    if (!match || keys.some((k) => k.id === match[1])) return undefined;
    keys.push({ id: match[1]!, key: Buffer.from(match[2]!, 'base64') });
  }
  return keys;
}

/**
 * Outside production, missing PTITSPAS_NIR_KEYS are generated once and kept in the data
 * directory (mode 0600), so NIRs stored in development stay readable across restarts.
 */
export async function resolveNirKeys(config: { nirKeys?: NirKey[]; dataDir: string }): Promise<NirKey[]> {
  if (config.nirKeys) return config.nirKeys;
  const file = path.join(config.dataDir, 'ptitspas-nir-keys');
  try {
    const stored = parseNirKeys((await readFile(file, 'utf8')).trim());
    if (stored) return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = `k1:${randomBytes(32).toString('base64')}`;
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return parseNirKeys(value)!;
}
