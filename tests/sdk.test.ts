import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_FILE, SDK_PACKAGE_FILE, sdkPackageJson, sdkSchema } from '../scripts/sdk.js';
import type { App } from '../src/app.js';
import { VERSION } from '../src/version.js';
import { buildTestApp } from './helpers/app.js';
import { PTITSPAS_PASSWORD, ptitspasAccount, ptitspasSuperAdmin } from './helpers/ptitspas.js';
import { createOrganization } from './helpers/tenants.js';
import { PASSWORD } from './helpers/users.js';

// The SDK is a product of its own: generated from openapi.json (stale types fail here), packed by
// npm as docs/clients.md tells a client developer to, installed from the tarball into a project
// outside the repository, and used there by a typed script against the real server on a port.

const ROOT = path.resolve(import.meta.dirname, '..');
const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const rootPackage = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
const sdkPackage = JSON.parse(await readFile(SDK_PACKAGE_FILE, 'utf8'));

/** npm and node children: generous time (npm install on a loaded machine), none of vitest's npm_* settings. */
function run(command: string, args: string[], cwd: string, timeout = 240_000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const child = spawn(command, args, { cwd, env, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; output: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, output: `${stdout}\n${stderr}` })),
  );
}

describe('sdk/', () => {
  it('holds the types and the version `npm run sdk` writes from openapi.json and package.json', async () => {
    expect(
      (await sdkSchema()) === (await readFile(SCHEMA_FILE, 'utf8')),
      'sdk/src/schema.ts is stale: run `npm run sdk`',
    ).toBe(true);
    expect(sdkPackage.version, "sdk/package.json's version is not the server's: run `npm run sdk`").toBe(VERSION);
    expect(await sdkPackageJson()).toBe(await readFile(SDK_PACKAGE_FILE, 'utf8'));
  });

  it('pins what the repository pins: openapi-fetch, and typescript for its build', () => {
    expect(sdkPackage.dependencies).toEqual({ 'openapi-fetch': rootPackage.devDependencies['openapi-fetch'] });
    expect(sdkPackage.devDependencies).toEqual({ typescript: rootPackage.devDependencies.typescript });
  });
});

describe('the SDK packed, installed outside the repository, and used against a live server', () => {
  let app: App;
  let baseUrl: string;
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'sdk-client-'));
    app = await buildTestApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('`npm pack ./sdk` builds it and ships the compiled code, its types and package.json only', async () => {
    const packed = await run('npm', ['pack', './sdk', '--pack-destination', project, '--json'], ROOT);
    expect(packed.code, packed.output).toBe(0);
    const [result] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    expect(result!.filename).toBe(`medreport-ptitspas-sdk-${VERSION}.tgz`);
    expect(result!.files.map((file) => file.path).sort()).toEqual([
      'dist/index.d.ts',
      'dist/index.js',
      'dist/schema.d.ts',
      'dist/schema.js',
      'package.json',
    ]);
    tarball = result!.filename;
  }, 300_000);

  it('`npm install ./<tarball>` in a new project brings it and openapi-fetch, without install scripts', async () => {
    await writeFile(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'sdk-client', private: true, type: 'module' }),
    );
    const installed = await run(
      'npm',
      ['install', `./${tarball}`, '--no-audit', '--no-fund', '--no-update-notifier'],
      project,
    );
    expect(installed.code, installed.output).toBe(0);
    // npm 11 warns about a `prepare` script in any non-registry package: the build is `prepack`.
    expect(installed.output).not.toMatch(/install-scripts/);
    const manifest = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ '@medreport-ptitspas/sdk': `file:${tarball}` });
    const read = (name: string) => readFile(path.join(project, 'node_modules', name, 'package.json'), 'utf8');
    expect(JSON.parse(await read('@medreport-ptitspas/sdk')).version).toBe(VERSION);
    expect(JSON.parse(await read('openapi-fetch')).version).toBe(sdkPackage.dependencies['openapi-fetch']);
  }, 300_000);

  it('a strict NodeNext script type-checks against it and logs in, lists and fails on both APIs', async () => {
    const clinic = await createOrganization(app, 'Clinique du paquet');
    for (const name of ['Awa Ndiaye', 'Bintou Sarr', 'Chloé Martin']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/patients',
        headers: clinic.doctor.headers,
        payload: { name },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const admin = await ptitspasSuperAdmin(app);
    const managers: string[] = [];
    for (let i = 0; i < 3; i++) managers.push((await ptitspasAccount(app, admin, 'gestionnaire')).email);
    managers.sort();
    const missing = randomUUID();

    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          // As client projects usually set it: the script is checked against the SDK's types, the
          // standard library's own declarations are not checked again (most of tsc's time here).
          skipLibCheck: true,
          outDir: 'out',
        },
        include: ['app.ts'],
      }),
    );
    await writeFile(
      path.join(project, 'app.ts'),
      `import * as sdk from '@medreport-ptitspas/sdk';
import { createMedReportClient, createPtitsPasClient, type Schemas } from '@medreport-ptitspas/sdk';

const baseUrl = ${JSON.stringify(baseUrl)};
const print = (step: string, value: object) => console.log(JSON.stringify({ step, ...value }));
print('exports', { names: Object.keys(sdk).sort() });

// The types are the contract's, not any: each line below must be refused.
export function refused(client: sdk.MedReportClient) {
  // @ts-expect-error a path the contract does not have
  void client.api.GET('/api/no-such-route');
  // @ts-expect-error page is an integer
  void client.api.GET('/api/patients', { params: { query: { page: 'two' } } });
}

const medreport = createMedReportClient({ baseUrl });
const login = await medreport.api.POST('/api/login', {
  body: { email: ${JSON.stringify(clinic.doctor.user.email)}, password: ${JSON.stringify(PASSWORD)} },
});
print('medreport login', {
  status: login.response.status,
  role: login.data?.user.role,
  kept: medreport.token.get() === login.data?.token,
});
const first = medreport.token.get();
const refreshed = await medreport.api.POST('/api/auth/refresh');
print('medreport refresh', {
  status: refreshed.response.status,
  renewed: medreport.token.get() !== first && medreport.token.get() === refreshed.data?.token,
});
const list = await medreport.api.GET('/api/patients', { params: { query: { page: 2, limit: 2, sort: 'name' } } });
const patients: Schemas['Patient'][] = list.data?.data ?? [];
print('medreport list', {
  status: list.response.status,
  total: list.data?.total,
  page: list.data?.page,
  limit: list.data?.limit,
  names: patients.map((patient) => patient.name),
});
const notFound = await medreport.api.GET('/api/patients/{uuid}', { params: { path: { uuid: ${JSON.stringify(missing)} } } });
const medreportError: Schemas['MedReportError'] | undefined = notFound.error;
print('medreport error', { status: notFound.response.status, body: medreportError });

const ptitspas = createPtitsPasClient({ baseUrl });
const signedIn = await ptitspas.api.POST('/api/v1/auth/login', {
  body: { email: ${JSON.stringify(admin.email)}, password: ${JSON.stringify(PTITSPAS_PASSWORD)} },
});
print('ptitspas login', {
  status: signedIn.response.status,
  role: signedIn.data?.user.role,
  kept: ptitspas.tokens.get()?.refresh === signedIn.data?.refresh_token,
});
const spent = ptitspas.tokens.get()?.refresh;
print('ptitspas refresh', { refreshed: await ptitspas.refresh(), rotated: ptitspas.tokens.get()?.refresh !== spent });
const users = await ptitspas.api.GET('/api/v1/users', {
  params: { query: { role: 'gestionnaire', page: 1, limit: 2, sort: 'email' } },
});
print('ptitspas list', {
  status: users.response.status,
  total: users.response.headers.get('x-total-count'),
  emails: (users.data ?? []).map((user) => user.email),
});
const noUser = await ptitspas.api.GET('/api/v1/users/{id}', { params: { path: { id: ${JSON.stringify(missing)} } } });
const ptitspasError: Schemas['PtitsPasError'] | undefined = noUser.error;
print('ptitspas error', { status: noUser.response.status, body: ptitspasError });
`,
    );

    const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(compiled.code, compiled.output).toBe(0);
    const ran = await run(process.execPath, ['out/app.js'], project, 60_000);
    expect(ran.code, ran.output).toBe(0);
    const steps = ran.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(steps).toEqual([
      {
        step: 'exports',
        names: [
          'MedReportSync',
          'createMedReportClient',
          'createPtitsPasClient',
          'formData',
          'liveNotifications',
          'memoryStore',
        ],
      },
      { step: 'medreport login', status: 200, role: 'doctor', kept: true },
      { step: 'medreport refresh', status: 200, renewed: true },
      { step: 'medreport list', status: 200, total: 3, page: 2, limit: 2, names: ['Chloé Martin'] },
      {
        step: 'medreport error',
        status: 404,
        body: { success: false, message: 'Patient introuvable.', error: 'Patient introuvable.' },
      },
      { step: 'ptitspas login', status: 200, role: 'super_admin', kept: true },
      { step: 'ptitspas refresh', refreshed: true, rotated: true },
      { step: 'ptitspas list', status: 200, total: '3', emails: managers.slice(0, 2) },
      {
        step: 'ptitspas error',
        status: 404,
        body: { statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' },
      },
    ]);
  }, 300_000);
});
