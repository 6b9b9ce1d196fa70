import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import type { ChannelHandlers } from '../../db/listener.js';
import type { Database } from '../../db/schema.js';
import type { Notification } from '../../domain/ptitspas/notifications/model.js';
import {
  latestNotificationId,
  liveLogins,
  notificationsAfter,
  notificationsByIds,
} from '../../domain/ptitspas/notifications/queries.js';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const NOTIFICATIONS_CHANNEL = 'ptitspas_notifications';
export const AUTH_CHANNEL = 'ptitspas_auth';

/** Close codes of the live socket (docs/ptitspas.md, Notifications). */
const CLOSE = {
  /** Login revoked, account suspended or access expired: log in again. */
  unauthorized: 4401,
  /** The client reads too slowly: reconnect with `?depuis=` the last id received. */
  tooSlow: 4429,
  /** The server stops: reconnect with `?depuis=`. */
  goingAway: 1001,
} as const;

export interface HubLimits {
  /** Replayed notifications at most (the spec's 1 000). */
  replay: number;
  /** Ping period; a socket that did not answer the previous ping is dropped. */
  pingMs: number;
  /** Bytes a socket may have waiting to be sent before it is closed as too slow. */
  maxBufferedBytes: number;
  /** Open sockets per account, and in total on this instance. */
  perAccount: number;
  total: number;
}

interface LiveSocket {
  userId: string;
  familyId: string;
  ws: WebSocket;
  /** The last id sent, or the starting point: nothing at or below it is sent (the replay/live seam, catch-ups). */
  last: string;
  /** Live notifications announced while the first replay runs; sent after it, above `last`. */
  waiting: Notification[] | undefined;
  answeredPing: boolean;
  expiry: NodeJS.Timeout;
}

/**
 * The live sockets of one instance and what reaches them. The listener (db/listener.ts) brings each
 * committed notification's `<recipient>:<id>`; the hub reads the rows of its own sockets' accounts
 * and sends them in id order. All its database work runs one job after another, so a replay, a
 * catch-up and live batches never interleave; announcements that arrive while a job runs are read
 * together by the next one.
 */
export class NotificationHub implements ChannelHandlers {
  readonly #byUser = new Map<string, Set<LiveSocket>>();
  readonly #byFamily = new Map<string, Set<LiveSocket>>();
  #count = 0;
  #announced: string[] = [];
  #readScheduled = false;
  #jobs: Promise<void> = Promise.resolve();
  /** Whether announcements were missed (the listener was down): the next `up` catches up. */
  #missed = false;
  readonly #pinger: NodeJS.Timeout;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: HubLimits,
    private readonly log: FastifyBaseLogger,
  ) {
    this.#pinger = setInterval(() => this.#ping(), limits.pingMs);
    this.#pinger.unref();
  }

  get size(): number {
    return this.#count;
  }

  /** Why `userId` may not open another socket now, if so. */
  refusal(userId: string): string | undefined {
    if (this.#count >= this.limits.total) return 'Trop de connexions sur ce serveur, réessayez plus tard.';
    if ((this.#byUser.get(userId)?.size ?? 0) >= this.limits.perAccount) {
      return `Au plus ${this.limits.perAccount} connexions en direct par compte.`;
    }
    return undefined;
  }

  /**
   * Where a new socket of `userId` starts: after `depuis`, or after the account's latest
   * notification. Read before the upgrade is answered, so whatever commits once the client sees
   * its socket open lies after it, announced or not (open() replays from it).
   */
  async startingPoint(userId: string, depuis: string | undefined): Promise<string> {
    return depuis ?? (await latestNotificationId(this.db, userId)) ?? NIL_UUID;
  }

  /**
   * A new socket: replays what followed `after` (at most `limits.replay`), then live ones follow,
   * without gap or repeat.
   */
  open(ws: WebSocket, who: { userId: string; familyId: string; expiresAt: number }, after: string) {
    const socket: LiveSocket = {
      userId: who.userId,
      familyId: who.familyId,
      ws,
      last: after,
      waiting: [],
      answeredPing: true,
      expiry: setTimeout(() => ws.close(CLOSE.unauthorized, 'Jeton expiré'), Math.max(0, who.expiresAt - Date.now())),
    };
    socket.expiry.unref();
    add(this.#byUser, socket.userId, socket);
    add(this.#byFamily, socket.familyId, socket);
    this.#count++;
    ws.on('pong', () => {
      socket.answeredPing = true;
    });
    ws.on('close', () => this.#forget(socket));
    this.#job(async () => {
      for (const n of await notificationsAfter(this.db, socket.userId, after, this.limits.replay))
        this.#send(socket, n);
      const waiting = socket.waiting ?? [];
      socket.waiting = undefined;
      for (const n of waiting) this.#send(socket, n);
    });
  }

  // The listener's handlers.

  message(channel: string, payload: string): void {
    const [head, id] = payload.split(':') as [string, string];
    if (channel === NOTIFICATIONS_CHANNEL) {
      if (!this.#byUser.has(head)) return;
      this.#announced.push(id);
      if (!this.#readScheduled) {
        this.#readScheduled = true;
        this.#job(() => this.#readAnnounced());
      }
    } else if (channel === AUTH_CHANNEL) {
      const sockets = (head === 'f' ? this.#byFamily : this.#byUser).get(id);
      if (sockets) this.#job(() => this.#checkLogins([...sockets]));
    }
  }

  up(): void {
    if (!this.#missed) return;
    this.#missed = false;
    this.#job(async () => {
      const sockets = this.#all();
      await this.#checkLogins(sockets);
      for (const socket of sockets) {
        if (socket.waiting) continue;
        for (const n of await notificationsAfter(this.db, socket.userId, socket.last, this.limits.replay)) {
          this.#send(socket, n);
        }
      }
    });
  }

  down(): void {
    this.#missed = true;
  }

  /** Closes every socket (the server stops): clients reconnect elsewhere with `?depuis=`. */
  async close(): Promise<void> {
    clearInterval(this.#pinger);
    for (const socket of this.#all()) socket.ws.close(CLOSE.goingAway, 'Arrêt du serveur');
    await this.#jobs;
  }

  #job(work: () => Promise<void>): void {
    this.#jobs = this.#jobs.then(work).catch((err) => this.log.error({ err }, 'live notifications: a job failed'));
  }

  async #readAnnounced(): Promise<void> {
    this.#readScheduled = false;
    const ids = this.#announced;
    this.#announced = [];
    for (const { recipient, notification } of await notificationsByIds(this.db, ids)) {
      for (const socket of this.#byUser.get(recipient) ?? []) {
        if (socket.waiting) socket.waiting.push(notification);
        else this.#send(socket, notification);
      }
    }
  }

  /** Closes the sockets whose login is no longer live for an active account. */
  async #checkLogins(sockets: LiveSocket[]): Promise<void> {
    if (sockets.length === 0) return;
    const live = await liveLogins(this.db, [...new Set(sockets.map((s) => s.familyId))]);
    for (const socket of sockets) {
      if (!live.has(socket.familyId)) socket.ws.close(CLOSE.unauthorized, 'Session révoquée ou compte suspendu');
    }
  }

  #send(socket: LiveSocket, notification: Notification): void {
    if (notification.id <= socket.last) return;
    if (socket.ws.readyState !== socket.ws.OPEN) return;
    if (socket.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      socket.ws.close(CLOSE.tooSlow, 'Trop lent : reconnectez-vous avec depuis');
      this.#forget(socket);
      return;
    }
    socket.ws.send(JSON.stringify({ type: 'notification', data: notification }));
    socket.last = notification.id;
  }

  #ping(): void {
    for (const socket of this.#all()) {
      if (!socket.answeredPing) {
        socket.ws.terminate();
        continue;
      }
      socket.answeredPing = false;
      socket.ws.ping();
    }
  }

  #forget(socket: LiveSocket): void {
    clearTimeout(socket.expiry);
    if (remove(this.#byUser, socket.userId, socket)) this.#count--;
    remove(this.#byFamily, socket.familyId, socket);
  }

  #all(): LiveSocket[] {
    return [...this.#byUser.values()].flatMap((set) => [...set]);
  }
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (!set?.delete(value)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}
