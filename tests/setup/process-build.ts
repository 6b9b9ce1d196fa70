import { copyFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { buildServer } from '../../scripts/server-build.js';

/**
 * The server and the CLI built once for the run into `dir`, as `npm run build` builds dist/
 * (`dir/src/cli.js`), for the tests that start them as child processes. Through the tsx loader
 * each spent ~1.2 s of CPU compiling and resolving before its first line (docs/testing.md).
 */
export async function buildForProcesses(root: string, dir: string): Promise<void> {
  await buildServer(root, dir);
  // Packages resolve from the checkout's node_modules; src/version.ts reads ../package.json.
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await copyFile(path.join(root, 'package.json'), path.join(dir, 'package.json'));
}
