import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_FILE, SDK_PACKAGE_FILE, sdkPackageJson, sdkSchema } from '../scripts/sdk.js';
import { VERSION } from '../src/version.js';

// The SDK is a product of its own: generated from openapi.json (stale types fail here), built by
// tsc, and used by another package through its package.json, as a client project would.

const ROOT = path.resolve(import.meta.dirname, '..');
const consumer = await mkdtemp(path.join(tmpdir(), 'sdk-consumer-'));
afterAll(() => rm(consumer, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string) {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
}
const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');

describe('sdk/', () => {
  it('holds the types and the version `npm run sdk` writes from openapi.json and package.json', async () => {
    expect(
      (await sdkSchema()) === (await readFile(SCHEMA_FILE, 'utf8')),
      'sdk/src/schema.ts is stale: run `npm run sdk`',
    ).toBe(true);
    const { version } = JSON.parse(await readFile(SDK_PACKAGE_FILE, 'utf8'));
    expect(version, "sdk/package.json's version is not the server's: run `npm run sdk`").toBe(VERSION);
    expect(await sdkPackageJson()).toBe(await readFile(SDK_PACKAGE_FILE, 'utf8'));
  });

  it('builds with tsc, and another package imports it by name, types included', async () => {
    const build = await run(process.execPath, [tsc, '-p', 'sdk/tsconfig.json'], ROOT);
    expect(build.code, build.output).toBe(0);

    await mkdir(path.join(consumer, 'node_modules/@medreport-ptitspas'), { recursive: true });
    await symlink(path.join(ROOT, 'sdk'), path.join(consumer, 'node_modules/@medreport-ptitspas/sdk'), 'dir');
    await writeFile(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          lib: ['ES2022', 'DOM'],
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['app.ts'],
      }),
    );
    await writeFile(
      path.join(consumer, 'app.ts'),
      [
        "import { createMedReportClient, createPtitsPasClient, type Schemas } from '@medreport-ptitspas/sdk';",
        "const medreport = createMedReportClient({ baseUrl: 'http://127.0.0.1:1' });",
        "const ptitspas = createPtitsPasClient({ baseUrl: 'http://127.0.0.1:1' });",
        "const patient: Partial<Schemas['Patient']> = { name: 'Awa' };",
        "export const ready = [typeof medreport.api.GET, typeof ptitspas.refresh, patient.name].join(' ');",
      ].join('\n'),
    );
    await writeFile(
      path.join(consumer, 'run.mjs'),
      "import * as sdk from '@medreport-ptitspas/sdk';\nconsole.log(Object.keys(sdk).sort().join(','));\n",
    );
    const typecheck = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
    expect(typecheck.code, typecheck.output).toBe(0);
    const imported = await run(process.execPath, ['run.mjs'], consumer);
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output.trim()).toBe(
      'MedReportSync,createMedReportClient,createPtitsPasClient,formData,liveNotifications,memoryStore',
    );
  });
});
