import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenApiDocument } from '../plugins/openapi-contract.js';
import { buildApp } from '../src/app.js';
import { type AppConfig, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';

/**
 * The OpenAPI document of both APIs, built from the route schemas without a database or a
 * listening server (`npm run openapi` writes it to openapi.json; tests/openapi.test.ts fails when
 * the committed file differs). A server serves the same document at /api/docs/json whatever its
 * configuration (tests/openapi-contract.test.ts).
 */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openapi-'));
  const config: AppConfig = {
    ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, PUBLIC_URL: 'http://127.0.0.1:3000' }),
    // Never reached: nothing here queries, and what tries at start-up (listeners, housekeeping) fails quietly.
    databaseUrl: 'postgres://openapi@127.0.0.1:1/openapi',
    jwtSecret: 'openapi-document-only-secret-never-signs-anything',
    nirKeys: [{ id: 'openapi', key: Buffer.alloc(32) }],
  };
  const app = await buildApp(config, { logger: createLogger('silent') });
  try {
    await app.ready();
    return structuredClone(app.swagger() as OpenApiDocument);
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));
export const serialize = (document: object) => `${JSON.stringify(document, null, 2)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const document = await openApiDocument();
  await writeFile(OPENAPI_FILE, serialize(document));
  const operations = Object.values(document.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  console.log(
    `openapi.json: ${operations} operations, ${Object.keys(document.components.schemas ?? {}).length} schemas`,
  );
}
