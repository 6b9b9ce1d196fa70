import { existsSync, readFileSync } from 'node:fs';

// ../package.json from the sources (src/), ../../package.json from the build (dist/src/).
const packageJson = ['../package.json', '../../package.json']
  .map((relative) => new URL(relative, import.meta.url))
  .find((url) => existsSync(url))!;

/** The one version of the server, its CLI and its OpenAPI document: package.json's. */
export const VERSION = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
