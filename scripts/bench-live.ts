/**
 * The live notifications part of `npm run bench` (scripts/bench.ts), ptitspas-evolutions.md:
 *
 * - idle: 2,000 sockets, one per account, held open on one instance through a ping round (30 s):
 *   the instance's memory per socket (RSS and heap after a full collection, before and after) and
 *   its event loop delay p99 meanwhile (scripts/bench-probe.ts, preloaded);
 * - fan-out: notifications for 500 parents whose sockets are on two instances, created at a fixed
 *   rate (1,000 a second) by `notify()` from two writers, then by messages posted through both
 *   instances' API (as fast as this machine posts them, up to that rate): every notification row
 *   counted against what the sockets received (lost, duplicated, someone else's, out of order),
 *   creation-to-delivery p50/p99, beside a bare `pg_notify` → `LISTEN` round trip at the same
 *   rate, in the same run.
 *
 * Accounts, logins and conversations are written in SQL once; access tokens are signed here with
 * the server's key (2,000 argon2 logins would only measure argon2).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { hkdfSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { connect, disconnect } from '../db/connection.js';
import { notify } from '../domain/ptitspas/notifications/notify.js';
import type { ClientsJob, ClientsReport } from './bench-live-clients.js';
import type { LoadJob, LoadResult } from './bench-load.js';

const IDLE_SOCKETS = 2_000;
const RECIPIENTS = 500;
const SENDERS = 20;
const RATE = Number(process.env.BENCH_LIVE_RATE ?? 1_000);
const SUBJECT = 'Bench live';

export interface Probe {
  loop: { p50: number; p99: number; max: number };
  rss: number;
  heapUsed: number;
  external: number;
}

/** A server started with the probe preloaded; `probe()` reads it. */
export interface ProbedServer {
  url: string;
  process: ChildProcess;
  probe(): Promise<Probe>;
}

export interface LiveBench {
  owner: pg.Client;
  ownerUrl: string;
  secret: string;
  root: string;
  seconds: number;
  startServer(name: string): Promise<ProbedServer>;
  load(jobs: LoadJob[]): Promise<LoadResult[]>;
  log(message: string): void;
}

interface Account {
  id: string;
  family: string;
  role: 'parent' | 'gestionnaire';
}

/** Parents `parent.live<i>` and gestionnaires `gestionnaire.live<i>`, each with a login; conversations of the first parents. */
async function seed(owner: pg.Client) {
  const accounts = async (prefix: string, role: Account['role'], count: number): Promise<Account[]> => {
    const emails = Array.from({ length: count }, (_, i) => `${prefix}.live${i}@ptitspas.test`);
    await owner.query(
      `insert into ptitspas.utilisateurs (id, email, prenom, nom, role, statut)
       select gen_random_uuid(), e, 'Live', 'Bench', $2, 'actif' from unnest($1::text[]) e on conflict do nothing`,
      [emails, role],
    );
    await owner.query(
      `insert into ptitspas.refresh_families (id, id_utilisateur)
       select gen_random_uuid(), u.id from ptitspas.utilisateurs u
        where u.email = any($1::text[])
          and not exists (select 1 from ptitspas.refresh_families f where f.id_utilisateur = u.id and f.revoque_le is null)`,
      [emails],
    );
    const { rows } = await owner.query(
      `select u.id, (select f.id from ptitspas.refresh_families f where f.id_utilisateur = u.id and f.revoque_le is null
                      order by f.id limit 1) as family
         from unnest($1::text[]) with ordinality as e(email, n) join ptitspas.utilisateurs u on u.email = e.email
        order by e.n`,
      [emails],
    );
    return rows.map((r) => ({ id: r.id as string, family: r.family as string, role }));
  };
  const parents = await accounts('parent', 'parent', IDLE_SOCKETS);
  const senders = await accounts('gestionnaire', 'gestionnaire', SENDERS);
  await owner.query(`insert into ptitspas.parents (id_utilisateur) select unnest($1::uuid[]) on conflict do nothing`, [
    parents.map((p) => p.id),
  ]);
  // One conversation per recipient, with gestionnaire i % SENDERS.
  const recipients = parents.slice(0, RECIPIENTS);
  const pairs = recipients.map((p, i) => ({ parent: p.id, sender: senders[i % SENDERS]!.id, id: randomUUID() }));
  const { rows: existing } = await owner.query(
    `select c.id, p.id_utilisateur as parent from ptitspas.conversations c
       join ptitspas.conversations_participants p on p.id_conversation = c.id
       join ptitspas.utilisateurs u on u.id = p.id_utilisateur and u.role = 'parent'
      where c.sujet = $1`,
    [SUBJECT],
  );
  const known = new Map(existing.map((r) => [r.parent as string, r.id as string]));
  const missing = pairs.filter((p) => !known.has(p.parent));
  if (missing.length > 0) {
    await owner.query(
      `insert into ptitspas.conversations (id, sujet, id_createur) select unnest($1::uuid[]), $3, unnest($2::uuid[])`,
      [missing.map((p) => p.id), missing.map((p) => p.sender), SUBJECT],
    );
    await owner.query(
      `insert into ptitspas.conversations_participants (id_conversation, id_utilisateur)
       select unnest($1::uuid[] || $1::uuid[]), unnest($2::uuid[] || $3::uuid[])`,
      [missing.map((p) => p.id), missing.map((p) => p.parent), missing.map((p) => p.sender)],
    );
    for (const p of missing) known.set(p.parent, p.id);
  }
  return {
    parents,
    recipients: recipients.map((p, i) => ({
      account: p,
      sender: senders[i % SENDERS]!,
      conversation: known.get(p.id)!,
    })),
  };
}

/** A 15-minute access token of `account`, as the server signs them (plugins/ptitspas/auth.ts). */
function tokens(secret: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'ptitspas access token', 32));
  const sign = createSigner({ key, algorithm: 'HS256', aud: 'ptitspas', iss: 'ptitspas', expiresIn: 15 * 60_000 });
  return (account: Account) => sign({ sub: account.id, fid: account.family, role: account.role });
}

/** The clients process with `sockets` open; `report()` and `close()`. */
async function openSockets(root: string, sockets: ClientsJob['sockets']) {
  const file = path.join(root, `live-clients-${process.pid}.json`);
  await writeFile(file, JSON.stringify({ sockets } satisfies ClientsJob));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-live-clients.ts', file], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  const { opened, failed } = (await next()) as { opened: number; failed: number };
  return {
    opened,
    failed,
    async report(): Promise<ClientsReport> {
      child.stdin!.write('report\n');
      return next();
    },
    async close() {
      child.stdin!.write('close\n');
      await new Promise((resolve) => child.on('exit', resolve));
    },
  };
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function measureIdle(bench: LiveBench, parents: Account[], sign: (a: Account) => string) {
  bench.log(`live: ${IDLE_SOCKETS} idle sockets on one instance, through a ping round`);
  const server = await bench.startServer('idle');
  await sleep(3_000);
  await server.probe(); // a fresh window
  await sleep(5_000);
  const before = await server.probe();
  const wsUrl = `${server.url.replace('http', 'ws')}/api/v1/notifications/ws`;
  const clients = await openSockets(
    bench.root,
    parents.map((p) => ({ url: wsUrl, token: sign(p), recipient: p.id })),
  );
  await sleep(5_000);
  await server.probe(); // the handshakes' window ends here
  await sleep(32_000); // idle, through one 30-second ping of every socket
  const idle = await server.probe();
  const report = await clients.report();
  await clients.close();
  server.process.kill('SIGTERM');
  return {
    opened: clients.opened,
    failed: clients.failed,
    closedMeanwhile: report.closed,
    before,
    idle,
    rssPerSocketKb: (idle.rss - before.rss) / 1024 / clients.opened,
    heapPerSocketKb: (idle.heapUsed + idle.external - before.heapUsed - before.external) / 1024 / clients.opened,
  };
}

/** `select pg_notify(...)` at `RATE` a second from 10 connections, received by one `LISTEN`: the round trips, ms. */
async function bareNotify(ownerUrl: string, seconds: number) {
  const listener = new pg.Client({ connectionString: ownerUrl });
  await listener.connect();
  const senders = new pg.Pool({ connectionString: ownerUrl, max: 10 });
  const latencies: number[] = [];
  listener.on('notification', (n) => latencies.push(performance.now() - Number(n.payload)));
  await listener.query('listen bench_rtt');
  const sent = await atRate(seconds, () =>
    senders.query('select pg_notify($1, $2)', ['bench_rtt', String(performance.now())]),
  );
  await sleep(1_000);
  await senders.end();
  await listener.end();
  return { sent, seconds, received: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

type Recipients = Awaited<ReturnType<typeof seed>>['recipients'];

/**
 * Calls `send(i)` `RATE` times a second for `seconds`, in ticks of 10 ms, without waiting for
 * the answers (a fixed arrival rate, as clients would make it); resolves when every call settled.
 */
async function atRate(seconds: number, send: (i: number) => Promise<unknown>) {
  const calls: Promise<unknown>[] = [];
  const start = performance.now();
  for (let elapsed = 0; elapsed < seconds * 1000; elapsed = performance.now() - start) {
    const due = Math.floor((elapsed / 1000) * RATE);
    while (calls.length < due) calls.push(send(calls.length).catch(() => undefined));
    await sleep(10);
  }
  await Promise.all(calls);
  return calls.length;
}

/** How the fan-out's notifications are created, on instances `a` and `b`: what to print about it. */
type Create = (a: ProbedServer, b: ProbedServer) => Promise<string>;

/** Messages posted through both instances' API (each notifies its conversation's parent), half the rate on each. */
const throughTheApi =
  (bench: LiveBench, recipients: Recipients, sign: (a: Account) => string): Create =>
  async (a, b) => {
    const requests = (offset: number) =>
      recipients.map((_, i) => {
        const r = recipients[(i + offset) % recipients.length]!;
        return {
          path: `/api/v1/messages/conversations/${r.conversation}/messages`,
          token: sign(r.sender),
          body: { contenu: 'Bench live' },
        };
      });
    const job = (url: string, offset: number): LoadJob => ({
      url,
      method: 'POST',
      connections: 20,
      seconds: bench.seconds,
      rate: RATE / 2,
      requests: requests(offset),
    });
    const posted = await bench.load([job(a.url, 0), job(b.url, 1)]);
    return posted
      .map((p, i) => `instance ${'AB'[i]} ${p.rps.toFixed(0)} req/s, p99 ${p.p99} ms, ${p.non2xx + p.errors} failed`)
      .join('; ');
  };

/**
 * `notify()` itself (the function every cause calls, same transaction, lock and trigger) from two
 * writers of 20 connections, the rate split between them: the delivery side at the target rate,
 * whatever a route in front of it costs on this machine.
 */
const throughNotify =
  (bench: LiveBench, recipients: Recipients): Create =>
  async () => {
    const writers = [connect(bench.ownerUrl, { max: 20 }), connect(bench.ownerUrl, { max: 20 })];
    let failed = 0;
    let firstError = '';
    const sent = await atRate(bench.seconds, (i) =>
      notify(writers[i % 2]!.db, [recipients[i % recipients.length]!.account.id], {
        type: 'message',
        titre: 'Bench live',
        corps: 'Vous avez reçu un nouveau message.',
        lien: { type: 'conversation', id: recipients[i % recipients.length]!.conversation },
      }).catch((err: Error) => {
        failed++;
        firstError ||= err.message;
        throw err;
      }),
    );
    await Promise.all(writers.map(disconnect));
    return `${sent} notify() calls from two writers of 20 connections, ${failed} failed${firstError ? ` (${firstError})` : ''}`;
  };

async function measureFanOut(bench: LiveBench, recipients: Recipients, sign: (a: Account) => string, create: Create) {
  const [a, b] = [await bench.startServer('fan-out A'), await bench.startServer('fan-out B')];
  const clients = await openSockets(
    bench.root,
    recipients.map((r, i) => ({
      url: `${(i % 2 ? b : a).url.replace('http', 'ws')}/api/v1/notifications/ws`,
      token: sign(r.account),
      recipient: r.account.id,
    })),
  );
  const { rows: started } = await bench.owner.query('select now() as t');
  const creation = await create(a, b);
  await sleep(3_000); // the last deliveries
  const report = await clients.report();
  await clients.close();
  a.process.kill('SIGTERM');
  b.process.kill('SIGTERM');
  const { rows } = await bench.owner.query(
    `select id_destinataire as recipient, id from ptitspas.notifications
      where type = 'message' and cree_le >= $1 and id_destinataire = any($2::uuid[])`,
    [started[0].t, recipients.map((r) => r.account.id)],
  );
  const expected = new Map<string, Set<string>>();
  for (const row of rows) {
    const set = expected.get(row.recipient) ?? new Set();
    set.add(row.id);
    expected.set(row.recipient, set);
  }
  let lost = 0;
  let duplicated = 0;
  let foreign = 0;
  let outOfOrder = 0;
  for (const r of recipients) {
    const want = expected.get(r.account.id) ?? new Set<string>();
    const got = report.received[r.account.id] ?? [];
    const seen = new Set<string>();
    for (const [i, id] of got.entries()) {
      if (seen.has(id)) duplicated++;
      else if (!want.has(id)) foreign++;
      if (i > 0 && id <= got[i - 1]!) outOfOrder++;
      seen.add(id);
    }
    for (const id of want) if (!seen.has(id)) lost++;
  }
  return {
    sockets: clients.opened,
    creation,
    created: rows.length,
    ratePerSecond: rows.length / bench.seconds,
    delivered: report.latencies.length,
    lost,
    duplicated,
    foreign,
    outOfOrder,
    p50: percentile(report.latencies, 50),
    p99: percentile(report.latencies, 99),
  };
}

export async function measureLive(bench: LiveBench) {
  const { parents, recipients } = await seed(bench.owner);
  await bench.owner.query(
    'vacuum analyze ptitspas.utilisateurs, ptitspas.refresh_families, ptitspas.conversations_participants',
  );
  const sign = tokens(bench.secret);
  const idle = await measureIdle(bench, parents, sign);
  bench.log(`live: fan-out, ${RATE} notify() a second from two writers to ${RECIPIENTS} sockets on two instances`);
  const direct = await measureFanOut(bench, recipients, sign, throughNotify(bench, recipients));
  bench.log(`live: fan-out, messages posted through two instances at up to ${RATE} a second`);
  const api = await measureFanOut(bench, recipients, sign, throughTheApi(bench, recipients, sign));
  bench.log(`live: bare pg_notify → LISTEN at ${RATE} a second`);
  const bare = await bareNotify(bench.ownerUrl, bench.seconds);
  return { idle, direct, api, bare };
}

/** The probe's answer, once the server wrote it. */
export async function readProbe(pid: number, file: string): Promise<Probe> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(50);
  await sleep(20); // written in one call; let it land
  return JSON.parse(readFileSync(file, 'utf8')) as Probe;
}

export function liveReport(live: Awaited<ReturnType<typeof measureLive>>, f: (n: number, digits?: number) => string) {
  const { idle, direct, api, bare } = live;
  const mb = (bytes: number) => f(bytes / 2 ** 20, 1);
  const row = (name: string, r: typeof direct) =>
    `| ${name} | ${f(r.ratePerSecond)} | ${r.delivered} of ${r.created} | ${r.lost} | ${r.duplicated} | ${r.foreign} | ` +
    `${r.outOfOrder} | ${f(r.p50, 1)} | **${f(r.p99, 1)}** (${f(r.p99 / bare.p99, 1)}× bare) |`;
  return [
    '',
    `${idle.opened} idle live sockets on one instance (${idle.failed} refused, ${idle.closedMeanwhile} closed meanwhile), ` +
      `held through a 30 s ping round: RSS ${mb(idle.before.rss)} → ${mb(idle.idle.rss)} MB, ` +
      `**${f(idle.rssPerSocketKb, 1)} KB per socket** (heap and buffers: ${f(idle.heapPerSocketKb, 1)} KB); ` +
      `event loop delay while they idle (10 ms sampling included) p50 ${f(idle.idle.loop.p50, 1)} ms, ` +
      `**p99 ${f(idle.idle.loop.p99, 1)} ms**, max ${f(idle.idle.loop.max, 1)} ms.`,
    '',
    `| live fan-out, ${RECIPIENTS} sockets on two instances | created/s | delivered | lost | duplicated | another account’s | out of order | p50 ms | p99 ms |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| bare \`pg_notify\` → \`LISTEN\` (10 senders, one listener) | ${f(bare.sent / bare.seconds)} | ${bare.received} of ${bare.sent} | ${bare.sent - bare.received} | – | – | – | ${f(bare.p50, 1)} | ${f(bare.p99, 1)} |`,
    row('`notify()` from two writers (the rows every cause writes)', direct),
    row('messages posted through the two instances’ API', api),
    '',
    `Creating: ${direct.creation}; ${api.creation}.`,
  ];
}
