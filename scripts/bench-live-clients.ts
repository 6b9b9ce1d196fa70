/**
 * The socket side of the live part of `npm run bench` (scripts/bench-live.ts), in a process of its
 * own: opens the sockets named in the job file (argv[2]) and records every frame. Commands on
 * stdin, one per line: `report` prints one JSON line (what each socket received, latencies),
 * `close` closes every socket and exits. Prints `{"opened":n,"failed":m}` once all are open.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';

export interface ClientsJob {
  sockets: Array<{ url: string; token: string; recipient: string }>;
}

export interface ClientsReport {
  /** The notification ids each recipient's socket received, in the order received. */
  received: Record<string, string[]>;
  /** Creation (the row's cree_le) to reception, ms, every frame. */
  latencies: number[];
  closed: number;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ClientsJob;
const report: ClientsReport = { received: {}, latencies: [], closed: 0 };
const sockets: WebSocket[] = [];

function open({ url, token, recipient }: ClientsJob['sockets'][number]): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    report.received[recipient] ??= [];
    const received = report.received[recipient];
    ws.on('message', (data) => {
      const now = Date.now();
      const { data: n } = JSON.parse(data.toString()) as { data: { id: string; cree_le: string } };
      received.push(n.id);
      report.latencies.push(now - Date.parse(n.cree_le));
    });
    ws.once('open', () => {
      sockets.push(ws);
      resolve(true);
    });
    ws.once('unexpected-response', () => resolve(false));
    ws.on('error', () => resolve(false));
    ws.on('close', () => report.closed++);
  });
}

let opened = 0;
let failed = 0;
// A hundred handshakes at a time, as clients reconnecting after a deploy would.
for (let i = 0; i < job.sockets.length; i += 100) {
  for (const ok of await Promise.all(job.sockets.slice(i, i + 100).map(open))) {
    if (ok) opened++;
    else failed++;
  }
}
process.stdout.write(`${JSON.stringify({ opened, failed })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'report') process.stdout.write(`${JSON.stringify(report)}\n`);
  if (line === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
}
