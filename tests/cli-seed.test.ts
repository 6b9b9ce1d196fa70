import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appRolePassword, appRoleUrl, ensureAppRole } from '../db/app-role.js';
import { connect } from '../db/connection.js';
import { buildTestApp } from './helpers/app.js';
import { query, runCli } from './helpers/cli.js';
import { clonedDatabaseUrl, emptyDatabaseUrl } from './helpers/database.js';
import { ptitspasLogin } from './helpers/ptitspas.js';
import { TEST_JWT_SECRET } from './helpers/urls.js';

describe('npm run cli -- seed:demo', () => {
  const args = [
    'seed:demo',
    '--orgs',
    '2',
    '--users-per-org',
    '3',
    '--patients',
    '25',
    '--large-org',
    '7',
    '--seed',
    '7',
  ];
  const dataDirs: string[] = [];
  afterAll(() => Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  /** A data directory of its own: the demo dossiers' pieces go to its storage (DATA_DIR/files). */
  async function dataDir() {
    const dir = await mkdtemp(path.join(tmpdir(), 'seed-demo-'));
    dataDirs.push(dir);
    return dir;
  }
  const seed = (databaseUrl: string, dir: string, ...extra: string[]) =>
    runCli([...args, ...extra], { env: { DATABASE_URL: databaseUrl, DATA_DIR: dir } });

  async function fingerprint(databaseUrl: string) {
    const [row] = await query<Record<string, unknown>>(
      databaseUrl,
      `select (select count(*)::int from medreport.organizations) as organizations,
              (select count(*)::int from medreport.users) as users,
              (select count(*)::int from medreport.patients) as patients,
              (select md5(string_agg(uuid::text || name, ',' order by uuid)) from medreport.patients) as patient_rows,
              (select count(*)::int from medreport.users
                where organization_id is null and platform_role is null) as orphans`,
    );
    return { ...row, dossiers: await demoDossiers(databaseUrl) };
  }

  /** The demo children's dossiers, by parent e-mail: state, steps, pieces' categories and names. */
  function demoDossiers(databaseUrl: string) {
    return query(
      databaseUrl,
      `select u.email, e.prenom, d.statut, jsonb_array_length(d.historique) as steps,
              (select json_agg(json_build_object('categorie', up.categorie, 'nom', up.nom, 'type', up.type_mime)
                               order by p.position)
                 from ptitspas.dossiers_pieces p join ptitspas.uploads up on up.id = p.id_upload
                where p.id_enfant = d.id_enfant) as pieces
         from ptitspas.utilisateurs u
         join ptitspas.enfants_parents ep on ep.id_parent = u.id
         join ptitspas.enfants e on e.id = ep.id_enfant
         join ptitspas.dossiers d on d.id_enfant = e.id
        order by u.email`,
    );
  }

  /** What seed:demo prints last: the accounts to log in with, one per API and role. */
  const ACCOUNTS = [
    'Log in with (password "demo passphrase"):',
    '  MedReport  admin                  admin@demo.medreport.test           platform administration (/api/admin): the accounts of every organization, the dashboard; no patients',
    '  MedReport  owner                  owner@org-1.demo.medreport.test     Clinique Démo 1: its patients and records, renaming it, its invitation code (owner@org-N for N = 1 to 2, owner@org-export)',
    '  MedReport  doctor                 doctor.1@org-1.demo.medreport.test  Clinique Démo 1: its patients and records (doctor.M@org-N for M = 1 to 2)',
    '  PtitsPas   super_admin            super-admin@demo.ptitspas.test      everything: every account (creates staff, deletes accounts), child, dossier and contract',
    '  PtitsPas   administrateur         administrateur@demo.ptitspas.test   every child, dossier and contract, the childminders (NIR hidden); validates and suspends accounts',
    '  PtitsPas   gestionnaire           gestionnaire@demo.ptitspas.test     every child, dossier (decides the submitted ones) and contract, the childminders with their NIR; validates and suspends accounts',
    "  PtitsPas   assistante_maternelle  assistante@demo.ptitspas.test       the children of her signed contracts (parent.1's and parent.2's) and their journal; her conversations",
    '  PtitsPas   parent                 parent.1@demo.ptitspas.test         their child Lina: dossier, contract, journal, conversation with the childminder (parent.N for N = 1 to 5: a child each, dossiers in every state)',
  ];

  /** Every account of both APIs, with its role (MedReport: the organization role, or the platform one) and organization key. */
  const sorted = <T extends { api: string; email: string }>(rows: T[]) =>
    [...rows].sort((a, b) => `${a.api} ${a.email}`.localeCompare(`${b.api} ${b.email}`));
  async function accountRoles(databaseUrl: string) {
    return sorted(
      await query<{ api: string; email: string }>(
        databaseUrl,
        `select 'MedReport' as api, u.email, coalesce(u.role, u.platform_role) as role,
              case when o.code = 'ORG-DEMOEXPORT' then to_jsonb('export'::text)
                   else to_jsonb(nullif(regexp_replace(o.code, '^ORG-DEMO0*', ''), '')::int) end as organization
         from medreport.users u left join medreport.organizations o on o.id = u.organization_id
       union all
       select 'PtitsPas', email, role, 'null'::jsonb from ptitspas.utilisateurs where statut = 'actif'`,
      ),
    );
  }

  const pieces = [
    { categorie: 'carnet_vaccination', nom: 'carnet-de-vaccination.pdf', type: 'application/pdf' },
    { categorie: 'attestation_assurance', nom: 'attestation-assurance.pdf', type: 'application/pdf' },
  ];
  const dossier = (index: number, prenom: string, statut: string, steps: number) => ({
    email: `parent.${index}@demo.ptitspas.test`,
    prenom,
    statut,
    steps,
    pieces,
  });

  it('refuses in production without --force, in one line, before touching the database', async () => {
    const databaseUrl = await clonedDatabaseUrl();
    const refused = await runCli([...args], {
      env: {
        DATABASE_URL: databaseUrl,
        DATA_DIR: await dataDir(),
        NODE_ENV: 'production',
        JWT_SECRET: randomBytes(48).toString('base64'),
        PTITSPAS_NIR_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      },
    });
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'Error: seed:demo refused: NODE_ENV=production, and its accounts (administrators included) share a published password; nothing was changed (--force seeds anyway)',
    });
    expect(await fingerprint(databaseUrl)).toMatchObject({ organizations: 0, users: 0 });
  });

  it('creates organizations, users, patients and PtitsPas dossiers, adds nothing on a rerun, and gives the same rows every time', async () => {
    const first = await emptyDatabaseUrl();
    const firstDir = await dataDir();
    const created = await seed(first, firstDir);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.split('\n').slice(-14)).toEqual([
      '3 organizations of 3 users each (an owner and doctors), a platform administrator, 32 patients (32 added by this run)',
      '3 PtitsPas staff accounts, one per role above the childminders (3 added by this run)',
      '5 PtitsPas dossiers (brouillon 2, soumis 1, valide 1, a_completer 1; 5 added by this run, 10 pieces stored) of the children of parent.N@demo.ptitspas.test, reviewed by gestionnaire@demo.ptitspas.test',
      '2 signed and 1 proposed PtitsPas contracts with assistante@demo.ptitspas.test (3 added by this run)',
      "30 events (the week before today) in the journal of parent.1@demo.ptitspas.test's child and 3 messages between that parent and assistante@demo.ptitspas.test added by this run",
      ...ACCOUNTS,
    ]);
    const again = await seed(first, firstDir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split('\n').slice(-14)).toEqual([
      expect.stringContaining('32 patients (0 added by this run)'),
      '3 PtitsPas staff accounts, one per role above the childminders (0 added by this run)',
      expect.stringContaining('(brouillon 2, soumis 1, valide 1, a_completer 1; 0 added by this run, 0 pieces stored)'),
      '2 signed and 1 proposed PtitsPas contracts with assistante@demo.ptitspas.test (0 added by this run)',
      expect.stringMatching(/^0 events .* and 0 messages /),
      ...ACCOUNTS,
    ]);
    // The accounts printed are the accounts made, with the role printed, active.
    expect(await accountRoles(first)).toEqual(
      sorted([
        { api: 'MedReport', email: 'admin@demo.medreport.test', role: 'admin', organization: null },
        ...[1, 2, 'export'].flatMap((org) => [
          { api: 'MedReport', email: `doctor.1@org-${org}.demo.medreport.test`, role: 'doctor', organization: org },
          { api: 'MedReport', email: `doctor.2@org-${org}.demo.medreport.test`, role: 'doctor', organization: org },
          { api: 'MedReport', email: `owner@org-${org}.demo.medreport.test`, role: 'owner', organization: org },
        ]),
        { api: 'PtitsPas', email: 'administrateur@demo.ptitspas.test', role: 'administrateur', organization: null },
        { api: 'PtitsPas', email: 'assistante@demo.ptitspas.test', role: 'assistante_maternelle', organization: null },
        { api: 'PtitsPas', email: 'gestionnaire@demo.ptitspas.test', role: 'gestionnaire', organization: null },
        ...[1, 2, 3, 4, 5].map((n) => ({
          api: 'PtitsPas',
          email: `parent.${n}@demo.ptitspas.test`,
          role: 'parent',
          organization: null,
        })),
        { api: 'PtitsPas', email: 'super-admin@demo.ptitspas.test', role: 'super_admin', organization: null },
      ]),
    );

    const second = await emptyDatabaseUrl();
    expect((await seed(second, await dataDir())).code).toBe(0);
    const [a, b] = [await fingerprint(first), await fingerprint(second)];
    expect(a).toEqual({
      organizations: 3,
      users: 10,
      patients: 32,
      patient_rows: expect.any(String),
      orphans: 0,
      dossiers: [
        dossier(1, 'Lina', 'brouillon', 1),
        dossier(2, 'Noé', 'soumis', 2),
        dossier(3, 'Jade', 'valide', 3),
        dossier(4, 'Malik', 'a_completer', 3),
        dossier(5, 'Rose', 'brouillon', 1),
      ],
    });
    expect(b).toEqual(a);
  });

  it('stores the pieces in the storage, takes the steps the API takes, and the API serves them', async () => {
    const databaseUrl = await emptyDatabaseUrl();
    const dir = await dataDir();
    const res = await seed(databaseUrl, dir, '--dossiers', '4');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('4 PtitsPas dossiers (brouillon 1, soumis 1, valide 1, a_completer 1;');
    expect(res.stdout.split('\n').slice(-11, -9)).toEqual([
      '2 signed and 1 proposed PtitsPas contracts with assistante@demo.ptitspas.test (3 added by this run)',
      expect.stringMatching(/^30 events .* and 3 messages /),
    ]);

    // Every piece's bytes are in the storage under its key: a PDF, the size and hash its row says.
    const uploads = await query<{ cle: string; taille: string; sha256: string; id_auteur: string; role: string }>(
      databaseUrl,
      `select up.cle, up.taille, up.sha256, up.id_auteur, u.role
         from ptitspas.uploads up join ptitspas.utilisateurs u on u.id = up.id_auteur`,
    );
    expect(uploads).toHaveLength(8);
    for (const upload of uploads) {
      const bytes = await readFile(path.join(dir, 'files', upload.cle));
      expect(bytes.subarray(0, 9).toString()).toBe('%PDF-1.4\n');
      expect(bytes.length).toBe(Number(upload.taille));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(upload.sha256);
      expect(upload.role).toBe('parent');
    }
    // The steps notified whom the API notifies: the gestionnaire of each submission, the parents
    // of each decision.
    const notifications = await query<{ type: string; role: string; n: number }>(
      databaseUrl,
      `select n.type, u.role, count(*)::int as n
         from ptitspas.notifications n join ptitspas.utilisateurs u on u.id = n.id_destinataire
        group by n.type, u.role order by n.type, u.role`,
    );
    expect(notifications).toEqual([
      { type: 'contrat_propose', role: 'assistante_maternelle', n: 3 },
      { type: 'contrat_signe', role: 'assistante_maternelle', n: 2 },
      { type: 'contrat_signe', role: 'parent', n: 2 },
      { type: 'dossier_a_completer', role: 'parent', n: 1 },
      { type: 'dossier_soumis', role: 'gestionnaire', n: 3 },
      { type: 'dossier_valide', role: 'parent', n: 1 },
      { type: 'evenement', role: 'parent', n: 30 },
      { type: 'message', role: 'assistante_maternelle', n: 2 },
      { type: 'message', role: 'parent', n: 1 },
    ]);
    const [decided] = await query<{ historique: Array<{ statut: string; commentaire: string | null }> }>(
      databaseUrl,
      `select d.historique from ptitspas.dossiers d where d.statut = 'a_completer'`,
    );
    expect(decided!.historique.map((h) => h.statut)).toEqual(['brouillon', 'soumis', 'a_completer']);
    expect(decided!.historique.at(-1)!.commentaire).toMatch(/attestation d’assurance est illisible/);

    // The server on this database and storage: the demo accounts log in with the demo password,
    // and see the dossiers and their pieces' bytes as the API shows them.
    const owner = connect(databaseUrl, { max: 1 });
    await ensureAppRole(owner.db, appRolePassword(TEST_JWT_SECRET)).finally(() => owner.db.destroy());
    const demo = await buildTestApp({
      config: {
        databaseUrl: appRoleUrl(databaseUrl, appRolePassword(TEST_JWT_SECRET)),
        storage: { backend: 'local', root: path.join(dir, 'files') },
      },
    });
    try {
      const gestionnaire = await ptitspasLogin(demo, 'gestionnaire@demo.ptitspas.test', 'demo passphrase');
      const list = await demo.inject({ method: 'GET', url: '/api/v1/dossiers', headers: gestionnaire.headers });
      expect(list.statusCode, list.body).toBe(200);
      expect(list.headers['x-total-count']).toBe('4');
      const listed = list.json() as Array<{ id_enfant: string; statut: string }>;
      expect(listed.map((d) => d.statut).sort()).toEqual(['a_completer', 'brouillon', 'soumis', 'valide']);
      const parent = await ptitspasLogin(demo, 'parent.3@demo.ptitspas.test', 'demo passphrase');
      const own = await demo.inject({ method: 'GET', url: '/api/v1/dossiers', headers: parent.headers });
      expect(own.statusCode).toBe(200);
      const [idEnfant] = (own.json() as Array<{ id_enfant: string }>).map((d) => d.id_enfant);
      const read = await demo.inject({ method: 'GET', url: `/api/v1/dossiers/${idEnfant}`, headers: parent.headers });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json()).toMatchObject({ statut: 'valide', pieces: [expect.any(String), expect.any(String)] });
      for (const piece of read.json().pieces as string[]) {
        const content = await demo.inject({
          method: 'GET',
          url: `/api/v1/uploads/${piece}/contenu`,
          headers: parent.headers,
        });
        expect(content.statusCode).toBe(200);
        expect(content.headers['content-type']).toBe('application/pdf');
        const row = uploads.find((u) => u.sha256 === createHash('sha256').update(content.rawPayload).digest('hex'));
        expect(row, piece).toBeDefined();
      }
      // The signed demo contracts: their childminder sees their children, their documents verify.
      const assistante = await ptitspasLogin(demo, 'assistante@demo.ptitspas.test', 'demo passphrase');
      const signed = await demo.inject({
        method: 'GET',
        url: '/api/v1/contrats?statut=signe',
        headers: assistante.headers,
      });
      expect(signed.headers['x-total-count']).toBe('2');
      for (const contrat of signed.json() as Array<{ id: string; id_enfant: string; code_verification: string }>) {
        const pdf = await demo.inject({
          method: 'GET',
          url: `/api/v1/contrats/${contrat.id}/pdf`,
          headers: assistante.headers,
        });
        expect(pdf.statusCode).toBe(200);
        const verified = await demo.inject({ method: 'GET', url: `/api/v1/verification/${contrat.code_verification}` });
        expect(verified.json()).toMatchObject({
          statut: 'signe',
          sha256: createHash('sha256').update(pdf.rawPayload).digest('hex'),
        });
        const child = await demo.inject({
          method: 'GET',
          url: `/api/v1/enfants/${contrat.id_enfant}`,
          headers: assistante.headers,
        });
        expect(child.statusCode, child.body).toBe(200);
      }
      // Every account printed logs in with the demo password, with the role printed.
      const printed = res.stdout
        .split('\n')
        .map((line) => /^ {2}(MedReport|PtitsPas)\s+(\S+)\s+(\S+@\S+)\s/.exec(line))
        .filter((m) => m !== null);
      expect(printed.map((m) => `${m[1]} ${m[2]}`)).toEqual([
        'MedReport admin',
        'MedReport owner',
        'MedReport doctor',
        'PtitsPas super_admin',
        'PtitsPas administrateur',
        'PtitsPas gestionnaire',
        'PtitsPas assistante_maternelle',
        'PtitsPas parent',
      ]);
      for (const [, api, role, email] of printed) {
        if (api === 'PtitsPas') {
          expect((await ptitspasLogin(demo, email!, 'demo passphrase')).role).toBe(role);
          continue;
        }
        const login = await demo.inject({
          method: 'POST',
          url: '/api/login',
          payload: { email, password: 'demo passphrase' },
        });
        expect(login.statusCode, `${email}: ${login.body}`).toBe(200);
        expect(login.json().user.role).toBe(role);
      }

      // The demo week: the first family's parent reads five days of six events, and the conversation.
      const parent1 = await ptitspasLogin(demo, 'parent.1@demo.ptitspas.test', 'demo passphrase');
      const dossiers1 = await demo.inject({ method: 'GET', url: '/api/v1/dossiers', headers: parent1.headers });
      expect(dossiers1.statusCode, dossiers1.body).toBe(200);
      const idEnfant1 = (dossiers1.json() as Array<{ id_enfant: string }>)[0]!.id_enfant;
      const week = await demo.inject({
        method: 'GET',
        url: `/api/v1/evenements?id_enfant=${idEnfant1}&limit=100`,
        headers: parent1.headers,
      });
      expect(week.statusCode, week.body).toBe(200);
      const events = week.json() as Array<{ type: string; survenu_le: string }>;
      expect(events).toHaveLength(30);
      expect(events.slice(0, 6).map((e) => e.type)).toEqual([
        'arrivee',
        'activite',
        'repas',
        'change',
        'humeur',
        'depart',
      ]);
      expect(new Set(events.map((e) => e.survenu_le.slice(0, 10))).size).toBe(5);
      const conversations = await demo.inject({
        method: 'GET',
        url: '/api/v1/messages/conversations',
        headers: parent1.headers,
      });
      expect(conversations.json()).toEqual([expect.objectContaining({ sujet: 'Semaine de Lina', non_lus: 1 })]);
    } finally {
      await demo.close();
    }

    // The storage and the rows agree, as storage:check sees them.
    const check = await runCli(['storage:check'], { env: { DATABASE_URL: databaseUrl, DATA_DIR: dir } });
    expect(check.code, check.stdout).toBe(0);
    // 8 pieces and the 2 signed contracts' documents.
    expect(check.stdout).toContain(': 10 objects listed, 10 rows pointing at objects;');
    expect(check.stdout.split('\n').at(-1)).toBe(
      'storage is consistent: every object has its row, every row its object',
    );
  });
});
