import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { App } from '../../src/app.js';

interface Frame {
  type: 'notification';
  data: { id: string; type: string; titre: string; lien: { type: string; id: string }; cree_le: string };
}

/** A real WebSocket client of /api/v1/notifications/ws on a listening app, recording what it gets. */
export interface LiveClient {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `count` frames arrived in all (rejects after `ms`). */
  received(count: number, ms?: number): Promise<Frame[]>;
}

function baseUrl(app: App): string {
  const { port } = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${port}/api/v1/notifications/ws`;
}

/** Opens a socket; rejects with the HTTP status when the server refuses the upgrade. */
export function openLive(
  app: App,
  options: { token?: string; query?: Record<string, string> } = {},
): Promise<LiveClient> {
  const query = new URLSearchParams(options.query ?? {}).toString();
  const ws = new WebSocket(`${baseUrl(app)}${query ? `?${query}` : ''}`, {
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  });
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const received = (count: number, ms = 10_000) =>
    new Promise<Frame[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} frames, got ${frames.length} within ${ms} ms`)),
        ms,
      );
      const check = () => {
        if (frames.length >= count) {
          clearTimeout(timer);
          resolve(frames.slice(0, count));
        } else waiters.push(check);
      };
      check();
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed, received }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () =>
        reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.once('error', reject);
  });
}

/** The HTTP status the server refuses an upgrade with. */
export async function refusedWith(
  app: App,
  options: Parameters<typeof openLive>[1],
): Promise<{ status: number; body: string }> {
  try {
    const client = await openLive(app, options);
    client.ws.close();
  } catch (err) {
    const { status, body } = err as { status?: number; body?: string };
    if (status) return { status, body: body ?? '' };
    throw err;
  }
  throw new Error('the upgrade was accepted');
}
