/**
 * The documents part of `npm run bench` (scripts/bench.ts): a one-page PDF through the API at 10
 * concurrent requests against the same document rendered by the same function in this process
 * (no HTTP, no database), the median time per PDF, and the server's memory over 1,000 PDFs.
 */
import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { connect, disconnect } from '../db/connection.js';
import { partiesOf, renderContrat, verificationUrlOf } from '../domain/ptitspas/contrats/document.js';
import { findContrat, shown } from '../domain/ptitspas/contrats/queries.js';
import { newVerificationCode } from '../domain/shared/documents/verification-code.js';
import { rssMb } from './process-stats.js';

/** Draft contracts the bench downloads, one per bench child: each rendered on every request. */
const CONTRATS = 200;
const CONCURRENCY = 10;
const MEMORY_PDFS = 1000;

/**
 * `CONTRATS` draft contracts between a bench parent and a bench childminder for the first bench
 * children, written in SQL once (a later run finds them). Their ids.
 */
export async function seedContrats(owner: pg.Client): Promise<string[]> {
  const existing = await owner.query(`select id from ptitspas.contrats where lieu_accueil = 'Bench' order by id`);
  if (existing.rows.length >= CONTRATS) return existing.rows.map((r) => r.id as string);
  await owner.query('begin');
  const people = await owner.query(
    `insert into ptitspas.utilisateurs (id, email, prenom, nom, role, statut, adresse, telephone)
     values (gen_random_uuid(), 'parent.bench@ptitspas.test', 'Chloé', 'Lefèvre', 'parent', 'actif',
             '3 place Bellecour, 69002 Lyon', '0601020304'),
            (gen_random_uuid(), 'assistante.bench@ptitspas.test', 'Hélène', 'Garçon', 'assistante_maternelle', 'actif',
             '8 rue des Écoles, 69007 Lyon', '0611223344')
     returning id, role`,
  );
  const parent = people.rows.find((r) => r.role === 'parent')!.id as string;
  const assistante = people.rows.find((r) => r.role === 'assistante_maternelle')!.id as string;
  await owner.query(`insert into ptitspas.parents (id_utilisateur) values ($1)`, [parent]);
  await owner.query(
    `insert into ptitspas.assistantes_maternelles (id_utilisateur, numero_agrement, date_agrement, nb_max_enfants, place_disponible)
     values ($1, 'AM-BENCH-0001', '2018-09-01', 4, 4)`,
    [assistante],
  );
  const enfants = await owner.query(`select id from ptitspas.enfants order by id limit $1`, [CONTRATS]);
  const ids = enfants.rows.map((r) => r.id as string);
  await owner.query(
    `insert into ptitspas.enfants_parents (id_enfant, id_parent) select unnest($1::uuid[]), $2 on conflict do nothing`,
    [ids, parent],
  );
  const planning = JSON.stringify(
    ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi'].map((jour) => ({ jour, debut: '08:00', fin: '17:00' })),
  );
  // The figures the server computes for this planning and rate (45 h, 195 h, 780,00 €).
  const { rows } = await owner.query(
    `insert into ptitspas.contrats (id, id_enfant, id_parent_employeur, id_assistante_maternelle, id_auteur, type_contrat,
       date_debut, periode_essai_jours, annee_complete, semaines_programmees, planning, taux_horaire_centimes,
       indemnite_entretien_centimes, indemnite_repas_centimes, jour_paiement, lieu_accueil, heures_hebdo_centiemes,
       heures_mensualisees_centiemes, heures_majorees_hebdo_centiemes, salaire_mensuel_centimes, code_verification)
     select gen_random_uuid(), e, $2, $3, $2, 'cdi', date '2026-09-01', 30, true, 52, $4::jsonb, 400, 400, 350, 5,
            'Bench', 4500, 19500, 0, 78000, c
       from unnest($1::uuid[], $5::text[]) as t(e, c)
     returning id`,
    [ids, parent, assistante, planning, ids.map(() => newVerificationCode())],
  );
  await owner.query('commit');
  return rows.map((r) => r.id as string);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sink = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

/**
 * The bare side: the first contract's draft rendered by renderContrat here, with its data read
 * once; PDFs/s with `CONCURRENCY` renderings in flight for `seconds`, and the median time of one
 * rendering alone.
 */
async function renderInProcess(ownerUrl: string, id: string, seconds: number) {
  const handle = connect(ownerUrl, { max: 1 });
  const staff = { id: '', email: '', role: 'super_admin', prenom: '', nom: '', statut: 'actif', familyId: '' } as const;
  const contrat = shown(await findContrat(handle.db, staff, id));
  const parties = await partiesOf(handle.db, contrat);
  await disconnect(handle);
  const url = verificationUrlOf('http://127.0.0.1', contrat.code_verification);
  const render = () => pipeline(renderContrat(contrat, parties, url, { draft: true }), sink());
  for (let i = 0; i < 20; i++) await render(); // warm-up
  const alone: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    await render();
    alone.push(performance.now() - started);
  }
  let count = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await render();
        count++;
      }
    }),
  );
  return { pdfsPerSecond: count / ((performance.now() - started) / 1000), medianMs: median(alone) };
}

/** `MEMORY_PDFS` drafts downloaded through the API, `CONCURRENCY` at a time: the server's RSS before and at its peak. */
async function memoryOver(api: string, tokens: string[], ids: string[], server: ChildProcess) {
  const before = rssMb(server.pid!);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 20);
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < MEMORY_PDFS; i = next++) {
        const res = await fetch(`${api}/api/v1/contrats/${ids[i % ids.length]}/pdf`, {
          headers: { authorization: `Bearer ${tokens[i % tokens.length]}` },
        });
        await res.arrayBuffer();
        if (!res.ok) failed++;
      }
    }),
  );
  clearInterval(sampler);
  return { beforeMb: before, growthMb: rssMb(server.pid!) - before, peakGrowthMb: peak - before, failed };
}

export interface PdfBench {
  ownerUrl: string;
  api: string;
  server: ChildProcess;
  ids: string[];
  /** Gestionnaire access tokens: staff read every contract. */
  tokens: () => Promise<string[]>;
  seconds: number;
  /** The API side: the load generator's result for `GET /api/v1/contrats/:id/pdf`. */
  loadApi: (tokens: string[]) => Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }>;
  rounds: number;
}

/** The PDF scenario: rounds of the bare renderer and of the API in turn, then the memory run. */
export async function measurePdfs(bench: PdfBench) {
  const bare: Array<Awaited<ReturnType<typeof renderInProcess>>> = [];
  const api: Array<Awaited<ReturnType<PdfBench['loadApi']>>> = [];
  for (let round = 0; round < bench.rounds; round++) {
    bare.push(await renderInProcess(bench.ownerUrl, bench.ids[0]!, bench.seconds));
    api.push(await bench.loadApi(await bench.tokens()));
  }
  const memory = await memoryOver(bench.api, await bench.tokens(), bench.ids, bench.server);
  return {
    bare: { pdfsPerSecond: median(bare.map((b) => b.pdfsPerSecond)), medianMs: median(bare.map((b) => b.medianMs)) },
    api: {
      pdfsPerSecond: median(api.map((a) => a.rps)),
      p50: median(api.map((a) => a.p50)),
      p99: median(api.map((a) => a.p99)),
      failed: api.reduce((n, a) => n + a.non2xx + a.errors, 0),
    },
    memory,
  };
}
