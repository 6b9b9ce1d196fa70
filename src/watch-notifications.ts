import { WebSocket } from 'ws';

interface Notification {
  id: string;
  type: string;
  titre: string;
  corps: string;
  cree_le: string;
}

export interface WatchOptions {
  /** The server's base URL (`http://127.0.0.1:3000`). */
  url: string;
  email: string;
  password: string;
  /** Replay what followed this id first. */
  depuis?: string;
  /** Stop after this many notifications (otherwise: until the socket closes for good or Ctrl-C). */
  count?: number;
  print: (line: string) => void;
}

/** Close codes after which the same login may reconnect with `depuis` (docs/ptitspas.md, Live delivery). */
const RECONNECT = new Set([1001, 1006, 4429]);

async function login({ url, email, password }: WatchOptions): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; message?: string };
  if (!res.ok || !body.access_token) throw new Error(`login refused (${res.status}): ${body.message ?? 'no token'}`);
  return body.access_token;
}

/**
 * `npm run cli -- ptitspas:watch`: logs in to a running server, opens GET /api/v1/notifications/ws
 * and prints each notification as it arrives, one line each. Reconnects with `depuis` = the last id
 * printed when the server asks for it (too slow, shutting down, connection lost); stops on 4401.
 * Resolves with the number printed.
 */
export async function watchNotifications(options: WatchOptions): Promise<number> {
  const token = await login(options);
  let last = options.depuis;
  let printed = 0;
  const wsUrl = `${options.url.replace(/^http/, 'ws')}/api/v1/notifications/ws`;
  for (let attempt = 0; ; attempt++) {
    const { code, reason } = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
      const ws = new WebSocket(last ? `${wsUrl}?depuis=${encodeURIComponent(last)}` : wsUrl, {
        headers: { authorization: `Bearer ${token}` },
      });
      ws.on('unexpected-response', (_req, res) =>
        reject(new Error(`the server refused the socket (${res.statusCode})`)),
      );
      ws.on('open', () => {
        attempt = 0;
        options.print(`watching ${options.email}'s notifications (Ctrl-C to stop)`);
      });
      ws.on('message', (data) => {
        const { data: n } = JSON.parse(data.toString()) as { data: Notification };
        options.print(`${n.cree_le}  ${n.type}  ${n.titre} — ${n.corps}  (${n.id})`);
        last = n.id;
        if (++printed === options.count) ws.close(1000);
      });
      ws.on('error', () => {});
      ws.on('close', (closeCode, why) => resolve({ code: closeCode, reason: why.toString() }));
    });
    if (printed === options.count) return printed;
    if (!RECONNECT.has(code) || attempt >= 5) throw new Error(`socket closed (${code}${reason ? `: ${reason}` : ''})`);
    options.print(`socket closed (${code}), reconnecting after ${last ?? 'the start'}`);
    await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt));
  }
}
