import { copyFile, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * The sources compiled once for the run into `dir`, laid out as `dist/` is (`dir/src/cli.js`), for
 * the tests that start the CLI or the server as a child process. Through the tsx loader each spent
 * ~1.2 s of CPU compiling and resolving before its first line (docs/testing.md). esbuild compiles
 * file by file as tsx does (isolatedModules, verbatimModuleSyntax), so the code run is the same.
 */
export async function buildForProcesses(root: string, dir: string): Promise<void> {
  // The server's layers: what `npm run build` compiles.
  const { include: layers } = JSON.parse(await readFile(path.join(root, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
  };
  const entryPoints: string[] = [];
  for (const layer of layers) {
    const files = await readdir(path.join(root, layer), { recursive: true });
    for (const file of files) if (file.endsWith('.ts')) entryPoints.push(path.join(root, layer, file));
  }
  await build({
    entryPoints,
    outdir: dir,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  // Packages resolve from the checkout's node_modules; src/version.ts reads ../package.json.
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await copyFile(path.join(root, 'package.json'), path.join(dir, 'package.json'));
}
