import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/** Bundled with the sources: ESM packages of many small modules. */
const BUNDLED = new Set(['kysely', '@sinclair/typebox']);

/**
 * The server and its CLI for node, as `npm run build` writes them to dist/ and the tests' child
 * processes run them (tests/setup/process-build.ts): `src/server.js` and `src/cli.js` under
 * `outDir`, with the code they share and what they load later (the app, each CLI command) in
 * chunks beside them.
 *
 * Bundled because resolving and linking ES modules one by one was about half of a CLI command's
 * CPU, and the sources are ~260 modules, Kysely ~280 and TypeBox ~270 more: a CLI command went
 * from 0.5 to 0.23 s of CPU, the server's idle RSS down by 10 MB (docs/benchmarks.md). The other
 * packages stay in node_modules: CommonJS ones would need a `require` shim in ESM output, and some
 * must stay where they are (argon2's native module, the fonts pdfkit reads, what loads only when
 * used).
 */
export async function buildServer(root: string, outDir: string): Promise<void> {
  const { dependencies } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  await build({
    absWorkingDir: root,
    entryPoints: ['src/server.ts', 'src/cli.ts'],
    outdir: outDir,
    outbase: root,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Beside the entry points, so that src/version.ts finds package.json from any chunk.
    chunkNames: 'src/[name]-[hash]',
    external: Object.keys(dependencies).filter((name) => !BUNDLED.has(name)),
    sourcemap: true,
    logLevel: 'error',
  });
}
