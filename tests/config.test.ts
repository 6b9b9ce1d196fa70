import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../src/config.js';
import { resolveJwtSecret, resolveNirKeys } from '../src/config-values.js';

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
    [{ DATABASE_POOLER: 'session' }, 'DATABASE_POOLER must be one of none, transaction (got "session")'],
    [
      { DATABASE_URL: 'postgres://owner@db/app', DATABASE_POOLER: 'transaction' },
      'DATABASE_LISTEN_URL is required when DATABASE_POOLER=transaction: LISTEN needs a direct connection to PostgreSQL',
    ],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'q8Z0vX2mN7rT4kL9pW3sY6bC1dF5gH8j' },
      'PTITSPAS_NIR_KEYS is required when NODE_ENV=production',
    ],
    [
      { PTITSPAS_NIR_KEYS: 'k1:not-base64-of-32-bytes' },
      'PTITSPAS_NIR_KEYS must be keys "id:base64" separated by commas, each 32 random bytes, the current one first (e.g. "k1:$(openssl rand -base64 32)") (value hidden)',
    ],
    [
      {
        PTITSPAS_NIR_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')},k1:${Buffer.alloc(32, 2).toString('base64')}`,
      },
      'PTITSPAS_NIR_KEYS must be keys "id:base64" separated by commas, each 32 random bytes, the current one first (e.g. "k1:$(openssl rand -base64 32)") (value hidden)',
    ],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'change-me-to-a-long-random-string-of-48-chars' },
      'JWT_SECRET looks like a placeholder (value hidden); set a random one, e.g. `openssl rand -base64 48`',
    ],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(48) },
      'JWT_SECRET looks like a placeholder (value hidden); set a random one, e.g. `openssl rand -base64 48`',
    ],
    [
      { TRUST_PROXY: 'banana' },
      'TRUST_PROXY must be true, false, a hop count, or proxy addresses/CIDRs separated by commas (got "banana")',
    ],
    [
      { TRUST_PROXY: '10.0.0.0/33' },
      'TRUST_PROXY must be true, false, a hop count, or proxy addresses/CIDRs separated by commas (got "10.0.0.0/33")',
    ],
    [
      { CORS_ORIGINS: 'app.example.com' },
      'CORS_ORIGINS must be origins such as https://app.example.com separated by commas, * or none (got "app.example.com")',
    ],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it('accepts proxies as hop counts, addresses, CIDRs and names', () => {
    for (const value of [
      'true',
      '2',
      '10.0.0.1',
      '10.0.0.0/8, 192.168.0.0/16',
      'loopback,uniquelocal',
      '::1',
      'fd00::/8',
    ]) {
      expect(() => loadConfig({ TRUST_PROXY: value }), value).not.toThrow();
    }
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it('defaults PUBLIC_URL to an address reachable from this machine', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ HOST: '::', PORT: '8080' }).publicUrl).toBe('http://[::1]:8080');
    expect(loadConfig({ HOST: 'api.local', PORT: '80' }).publicUrl).toBe('http://api.local:80');
  });

  it('allows localhost origins by default in development, none in production', () => {
    expect(loadConfig({}).corsOrigins).toBe('localhost');
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: 'q8Z0vX2mN7rT4kL9pW3sY6bC1dF5gH8j',
      PTITSPAS_NIR_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    };
    expect(loadConfig(production).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, https://b.example.com/' }).corsOrigins).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
    expect(loadConfig({ CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });
});

describe('resolveNirKeys', () => {
  it('generates a key once outside production, keeps it private in the data directory and reuses it', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cfg-'));
    const config = loadConfig({ DATA_DIR: dataDir });
    const [first] = await resolveNirKeys(config);
    expect(first).toMatchObject({ id: 'k1' });
    expect(first!.key.length).toBe(32);
    expect(await resolveNirKeys(config)).toEqual([first]);
    expect((await stat(path.join(dataDir, 'ptitspas-nir-keys'))).mode & 0o777).toBe(0o600);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads PTITSPAS_NIR_KEYS, current key first', async () => {
    const keys = `new:${Buffer.alloc(32, 9).toString('base64')}, old:${Buffer.alloc(32, 8).toString('base64')}`;
    expect(await resolveNirKeys(loadConfig({ PTITSPAS_NIR_KEYS: keys }))).toEqual([
      { id: 'new', key: Buffer.alloc(32, 9) },
      { id: 'old', key: Buffer.alloc(32, 8) },
    ]);
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
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prefers JWT_SECRET when set', async () => {
    const secret = 'x'.repeat(40);
    expect(await resolveJwtSecret(loadConfig({ JWT_SECRET: secret }))).toBe(secret);
  });
});

describe('the list of variables', () => {
  it('.env.example names every variable the server reads, and nothing else', async () => {
    const example = await readFile('.env.example', 'utf8');
    const named = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect([...named].sort()).toEqual([...ENV_VARIABLES].sort());
    // Uncommented as they are, the lines parse (Node's own .env parser) into a valid configuration.
    const parsed = parseEnv(example.replace(/^# ?([A-Z][A-Z0-9_]*=.*)$/gm, '$1'));
    expect(Object.keys(parsed).sort()).toEqual([...ENV_VARIABLES].sort());
    expect(loadConfig(parsed)).toMatchObject({ env: 'development', port: 3000, databasePooler: 'none' });
  });

  it("the README's configuration table names every variable", async () => {
    const readme = await readFile('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## CLI'));
    const provider = /^OAUTH_(?!SUCCESS_REDIRECT)[A-Z]+_/;
    const missing = ENV_VARIABLES.filter((name) => !provider.test(name) && !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

describe("the README's shell sessions", () => {
  it('stop at a failed call with its answer, instead of going on with an empty value', async () => {
    const readme = await readFile('README.md', 'utf8');
    const definitions = [...readme.matchAll(/^json\(\) \{[\s\S]*?"\$1"; \}$/gm)].map((m) => m[0]);
    expect(definitions).toHaveLength(2); // MedReport's and PtitsPas' sessions, the same helper
    expect(definitions[1]).toBe(definitions[0]);
    expect(readme).not.toMatch(/node -pe/);
    const run = (input: string) =>
      spawnSync('bash', ['-c', `${definitions[0]}\nTOKEN=$(json token) && echo "got $TOKEN"`], {
        input,
        encoding: 'utf8',
      });
    const ok = run('{"token":"abc"}');
    expect([ok.status, ok.stdout]).toEqual([0, 'got abc\n']);
    const refused = run('{"success":false,"message":"Identifiants invalides."}');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('no token in: {"success":false,"message":"Identifiants invalides."}');
  });
});
