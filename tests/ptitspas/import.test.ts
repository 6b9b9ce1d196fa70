import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPtitsPas } from '../../domain/ptitspas/import/index.js';
import { writePtitsPasCsv } from '../../scripts/generate-ptitspas-csv.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { testDb } from '../helpers/database.js';
import { ptitspasSuperAdmin } from '../helpers/ptitspas.js';

let app: App;
let dir: string;
const owner = await testDb();
beforeAll(async () => {
  app = await buildTestApp();
  dir = await mkdtemp(path.join(tmpdir(), 'ptitspas-csv-'));
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
  await rm(dir, { recursive: true, force: true });
});

const count = async (sql: string, values: unknown[] = []) =>
  Number((await owner.pool.query<{ n: string }>(sql, values)).rows[0]!.n);

async function files(name: string, users: string, enfants: string) {
  const u = path.join(dir, `${name}-users.csv`);
  const e = path.join(dir, `${name}-enfants.csv`);
  await writeFile(u, users);
  await writeFile(e, enfants);
  return { users: u, enfants: e };
}

const cli = (...args: string[]) => runCli(['ptitspas:import', ...args]);

describe('npm run cli -- ptitspas:import', () => {
  it('refuses a file it cannot find in one line naming the option, before touching the database', async () => {
    const missing = await cli('--users', 'docs/ptitspas-import/users.csv', '--enfants', 'absent/enfants.csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Error: --enfants: no file absent\/enfants\.csv \(looked in \/.+\)$/),
    ]);
    expect(missing.stdout).toBe('');
    const directory = await cli('--users', 'docs');
    expect(directory.code).toBe(1);
    expect(directory.stderr.trim()).toBe('Error: --users: docs is not a file');
  });

  it('imports the example files of docs/, and a second run changes nothing', async () => {
    const example = ['--users', 'docs/ptitspas-import/users.csv', '--enfants', 'docs/ptitspas-import/enfants.csv'];
    const first = await cli(...example);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^2 families \(3 parents, 3 children\) and 2 childminders imported, 0 already present, 0 rows rejected/m,
    );
    const again = await cli(...example);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^0 families .* 0 childminders imported, 4 already present, 0 rows rejected/m);

    // Imported as the API would have created them: co-parents both ways, children seen by both parents.
    const { rows } = await owner.pool.query(
      `select u.email, co.email as co_parent from ptitspas.parents p
         join ptitspas.utilisateurs u on u.id = p.id_utilisateur
         left join ptitspas.utilisateurs co on co.id = p.id_co_parent
        where u.email like '%dupont@example.com' order by u.email`,
    );
    expect(rows).toEqual([
      { email: 'claire.dupont@example.com', co_parent: 'jean.dupont@example.com' },
      { email: 'jean.dupont@example.com', co_parent: 'claire.dupont@example.com' },
    ]);
    const admin = await ptitspasSuperAdmin(app);
    const am = await app.inject({
      url: '/api/v1/assistantes-maternelles?search=leroy',
      headers: admin.headers,
    });
    expect(am.json()).toMatchObject([
      {
        numero_agrement: 'AM123456',
        nb_max_enfants: 4,
        place_disponible: 2,
        disponible: true,
        ville_residence: 'Paris',
      },
    ]);
    const kids = await app.inject({ url: '/api/v1/enfants?search=dupont&sort=prenom', headers: admin.headers });
    expect(kids.json()).toMatchObject([
      { prenom: 'Alice', genre: 'F', date_naissance: '2020-05-15', consentement_photo: false },
      { prenom: 'Hugo', genre: 'H', date_naissance: '2022-11-03', consentement_photo: true },
    ]);
  });

  it('reports bad rows with their line, imports no part of a family with one, and exits 1', async () => {
    const bad = await files(
      'bad',
      [
        'famille,role,email,prenom,nom,numero_agrement,date_agrement,nb_max_enfants,place_disponible',
        'X1,parent,not-an-email,Jean,Dupont,,,,',
        'X1,parent,valid.x1@import.test,Marie,Dupont,,,,',
        'X2,parent,valid.x2@import.test,Paul,Durand,,,,',
        ',assistante_maternelle,am.future@import.test,Ana,Bello,AM-FUT,2999-01-01,,',
        ',assistante_maternelle,am.places@import.test,Ana,Bello,AM-PLA,2010-01-01,2,3',
        ',assistante_maternelle,am.ok@import.test,Ana,Bello,AM-OK1,2010-01-01,2,1',
        ',assistante_maternelle,AM.OK@import.test,Ana,Bello,AM-OK2,2010-01-01,2,1',
      ].join('\n'),
      [
        'famille,prenom,nom,genre,date_naissance',
        'X1,Alice,Dupont,F,2020-01-01',
        'X2,Zoé,Durand,X,2020-01-01',
        'X3,Bob,Inconnu,H,2020-01-01',
        'X2,Noé,Durand,H,2999-01-01',
      ].join('\n'),
    );
    const res = await cli('--users', bad.users, '--enfants', bad.enfants);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^0 families .* 1 childminders imported, 0 already present, 10 rows rejected/m);
    const lines = res.stderr.split('\n').filter((l) => l.includes('.csv:'));
    expect(lines).toEqual([
      `${bad.enfants}:2: Famille « X1 » non importée : une autre de ses lignes est invalide.`,
      `${bad.enfants}:3: La valeur du champ genre n'est pas autorisée.`,
      `${bad.enfants}:4: La famille « X3 » n’a aucun parent dans le fichier des utilisateurs.`,
      `${bad.enfants}:5: Le champ date_naissance ne peut pas être dans le futur.`,
      `${bad.users}:2: Le champ email doit être une adresse e-mail valide.`,
      `${bad.users}:3: Famille « X1 » non importée : une autre de ses lignes est invalide.`,
      `${bad.users}:4: Famille « X2 » non importée : une autre de ses lignes est invalide.`,
      `${bad.users}:5: Le champ date_agrement ne peut pas être dans le futur.`,
      `${bad.users}:6: Le champ place_disponible doit être compris entre 0 et nb_max_enfants.`,
      `${bad.users}:8: Le champ email est déjà utilisé ligne 7.`,
    ]);
    // Nothing of either family, and only the valid childminder.
    expect(await count(`select count(*) as n from ptitspas.utilisateurs where email like '%@import.test'`)).toBe(1);
    expect(await count(`select count(*) as n from ptitspas.enfants where nom in ('Durand', 'Inconnu')`)).toBe(0);
  });

  it('refuses a file whose header names an unknown column, before importing anything', async () => {
    const odd = await files('odd', 'famille,role,email,prenom,nom,mot_de_passe\nA,parent,a@odd.test,A,B,secret\n', '');
    const res = await cli('--users', odd.users);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('unknown column(s) mot_de_passe');
    expect(await count(`select count(*) as n from ptitspas.utilisateurs where email = 'a@odd.test'`)).toBe(0);
  });

  it('imports a file spanning several transactions, with progress, and only what is new on a rerun', async () => {
    const big = path.join(dir, 'big');
    const rows = await writePtitsPasCsv(big, 300, 400, 'big');
    expect(rows).toBe(1600);
    const progress: number[] = [];
    const summary = await importPtitsPas(
      app.systemDb,
      { users: path.join(big, 'users.csv'), enfants: path.join(big, 'enfants.csv') },
      (done) => progress.push(done),
    );
    expect(summary).toMatchObject({ families: 300, parents: 600, enfants: 600, childminders: 400, alreadyPresent: 0 });
    expect(summary.errors).toEqual([]);
    expect(progress.at(-1)).toBe(1600);
    expect(progress.length).toBeGreaterThan(2);
    expect(await count(`select count(*) as n from ptitspas.utilisateurs where email like 'big.%'`)).toBe(1000);
    expect(
      await count(
        `select count(*) as n from ptitspas.enfants_parents ep
           join ptitspas.utilisateurs u on u.id = ep.id_parent where u.email like 'big.%'`,
      ),
    ).toBe(1200);

    const rerun = await importPtitsPas(app.systemDb, {
      users: path.join(big, 'users.csv'),
      enfants: path.join(big, 'enfants.csv'),
    });
    expect(rerun).toMatchObject({ families: 0, childminders: 0, alreadyPresent: 700, errors: [] });
    expect(await count(`select count(*) as n from ptitspas.utilisateurs where email like 'big.%'`)).toBe(1000);
  });
});
