import pg from 'pg';
import { LISTENER_APPLICATION_NAME } from './connection.js';

export interface ChannelHandlers {
  /** A notification on one of the channels. */
  message(channel: string, payload: string): void;
  /** Listening (again): whatever was announced while down was missed and must be caught up. */
  up(): void;
  /** The connection is lost; `up` follows when it is back. */
  down(): void;
}

/**
 * A dedicated connection LISTENing on `channels`, where triggers announce changes at commit. A lost
 * connection calls `down` at once and is retried with backoff; `up` runs on every (re)connection.
 * Each user (MedReport's session cache, PtitsPas's live notifications) owns one.
 */
export class ChannelListener {
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #up = false;
  #ready: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly channels: readonly string[],
    private readonly handlers: ChannelHandlers,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.#ready = this.#connect(0);
  }

  /** Resolves once the first LISTEN succeeded or failed (the server starts either way). */
  ready(): Promise<void> {
    return this.#ready;
  }

  get listening(): boolean {
    return this.#client !== undefined && this.#up;
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: LISTENER_APPLICATION_NAME });
    const lost = (err?: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#up = false;
      this.handlers.down();
      if (err) this.onError(err);
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (!this.#closed) {
        const delay = Math.min(100 * 2 ** attempt, 5_000);
        this.#retry = setTimeout(() => void this.#connect(Math.min(attempt + 1, 6)), delay);
        this.#retry.unref();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', ({ channel, payload }) => {
      if (payload) this.handlers.message(channel, payload);
    });
    this.#client = client;
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`listen ${client.escapeIdentifier(channel)}`);
      if (this.#client !== client) return;
      this.#up = true;
      this.handlers.up();
      attempt = 0;
    } catch (err) {
      lost(err);
    }
  }

  /** Ends the connection as if the network had dropped it (tests of the reconnection). */
  drop(): void {
    this.#client?.emit('error', new Error('listener connection dropped'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    if (this.#up) this.handlers.down();
    this.#up = false;
    await client?.end().catch(() => {});
  }
}
