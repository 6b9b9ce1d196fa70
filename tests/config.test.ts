import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveJwtSecret } from '../src/config.js';

describe('loadConfig', () => {
  it('fills in defaults for the embedded setup', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      databaseUrl: undefined,
      logLevel: 'info',
      publicUrl: 'http://127.0.0.1:3000',
      rateLimits: true,
      bodyLimit: 1_048_576,
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('converts and keeps given values', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      RATE_LIMITS: 'off',
      PUBLIC_URL: 'https://api.example.com/',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://u:p@db:5432/app',
      rateLimits: false,
      publicUrl: 'https://api.example.com',
      logLevel: 'debug',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 0 and 65535 (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be an integer between 0 and 65535 (got "70000")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL (value hidden)'],
    [{ RATE_LIMITS: 'maybe' }, 'RATE_LIMITS must be "on" or "off" (got "maybe")'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters (value hidden)'],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL must be an smtp:// or smtps:// URL (value hidden)'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be one of development, test, production (got "staging")'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET is required when NODE_ENV=production'],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });
});

describe('resolveJwtSecret', () => {
  it('generates a secret once, keeps it private in the data directory and reuses it', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cfg-'));
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await resolveJwtSecret(config);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(await resolveJwtSecret(config)).toBe(first);
    const file = path.join(dataDir, 'jwt-secret');
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('prefers JWT_SECRET when set', async () => {
    const secret = 'x'.repeat(40);
    expect(await resolveJwtSecret(loadConfig({ JWT_SECRET: secret }))).toBe(secret);
  });
});
