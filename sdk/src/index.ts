import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

/**
 * A typed client for both APIs: openapi-fetch over the types generated from openapi.json
 * (./schema.ts), plus what a generator cannot express: keeping the tokens, PtitsPas's refresh-token
 * rotation on 401, and MedReport's sync cursor.
 */
export type { components, paths } from './schema.js';
export type Schemas = components['schemas'];

/** Where a client keeps a value between calls (memory by default; secure storage in an app). */
export interface Store<T> {
  get(): T | undefined;
  set(value: T | undefined): void;
}

export function memoryStore<T>(initial?: T): Store<T> {
  let value = initial;
  return {
    get: () => value,
    set: (next) => {
      value = next;
    },
  };
}

export interface ClientOptions {
  /** The server, e.g. https://api.example.com (without /api). */
  baseUrl: string;
  fetch?: (input: Request) => Promise<Response>;
}

const bearer = (request: Request, token: string | undefined) => {
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  else request.headers.delete('authorization');
};

/** The JSON body of a response, read from a copy so the caller still gets the original. */
const bodyOf = async (response: Response): Promise<Record<string, unknown> | undefined> =>
  response.ok && response.headers.get('content-type')?.includes('json')
    ? ((await response.clone().json()) as Record<string, unknown>)
    : undefined;

/**
 * A multipart/form-data body (file uploads, a profile with an avatar): pass it as `bodySerializer`.
 * Blobs (files) keep their type and name; other values are sent as text.
 */
export function formData(body: unknown): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Blob) form.append(key, value, value instanceof File ? value.name : key);
    else form.append(key, String(value));
  }
  return form;
}

// ---------------------------------------------------------------------------------------------
// MedReport (/api): one bearer token, issued by login and the registrations, renewed by refresh.

const MEDREPORT_TOKEN_ISSUERS = new Set([
  '/api/login',
  '/api/register',
  '/api/register-owner',
  '/api/register-doctor',
  '/api/auth/refresh',
]);

export interface MedReportClient {
  api: Client<paths>;
  token: Store<string>;
}

export function createMedReportClient(options: ClientOptions & { token?: Store<string> }): MedReportClient {
  const token = options.token ?? memoryStore<string>();
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const auth: Middleware = {
    onRequest({ request, schemaPath }) {
      if (!MEDREPORT_TOKEN_ISSUERS.has(schemaPath) || schemaPath === '/api/auth/refresh') bearer(request, token.get());
      return request;
    },
    async onResponse({ response, schemaPath }) {
      if (schemaPath === '/api/logout' && response.ok) token.set(undefined);
      if (!MEDREPORT_TOKEN_ISSUERS.has(schemaPath)) return undefined;
      const body = await bodyOf(response);
      if (typeof body?.token === 'string') token.set(body.token);
      return undefined;
    },
  };
  api.use(auth);
  return { api, token };
}

// ---------------------------------------------------------------------------------------------
// PtitsPas (/api/v1): a 15-minute access token and a refresh token exchanged on every use.

export interface PtitsPasTokens {
  access: string;
  refresh: string;
}

const PTITSPAS_PUBLIC = new Set([
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  '/api/v1/auth/register',
  '/api/v1/auth/set-password',
]);

export interface PtitsPasClient {
  api: Client<paths>;
  baseUrl: string;
  tokens: Store<PtitsPasTokens>;
  /** Exchanges the refresh token now; concurrent callers share one exchange. False when it was refused. */
  refresh(): Promise<boolean>;
}

/**
 * A request answered 401 because its access token expired is retried once, after one refresh:
 * requests failing together wait for the same refresh (a refresh token is single use: two
 * exchanges of one token would revoke the login). A refresh the server refuses clears the tokens.
 */
export function createPtitsPasClient(options: ClientOptions & { tokens?: Store<PtitsPasTokens> }): PtitsPasClient {
  const tokens = options.tokens ?? memoryStore<PtitsPasTokens>();
  const send = options.fetch ?? ((input: Request) => globalThis.fetch(input));
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const pending = new WeakMap<Request, Request>();
  let refreshing: Promise<boolean> | undefined;

  async function exchange(): Promise<boolean> {
    const current = tokens.get();
    if (!current) return false;
    const response = await send(
      new Request(`${options.baseUrl.replace(/\/+$/, '')}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh }),
      }),
    );
    if (!response.ok) {
      // Refused (expired, revoked, reused): this login is over. A failure of the network is not.
      if (response.status === 401) tokens.set(undefined);
      return false;
    }
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    tokens.set({ access: body.access_token, refresh: body.refresh_token });
    return true;
  }

  const refresh = () => (refreshing ??= exchange().finally(() => (refreshing = undefined)));

  const auth: Middleware = {
    onRequest({ request, schemaPath }) {
      if (PTITSPAS_PUBLIC.has(schemaPath)) return request;
      bearer(request, tokens.get()?.access);
      // Kept before the body is read, to send again after a refresh.
      pending.set(request, request.clone());
      return request;
    },
    async onResponse({ request, response, schemaPath }) {
      if (schemaPath === '/api/v1/auth/login' || schemaPath === '/api/v1/auth/refresh') {
        const body = await bodyOf(response);
        if (typeof body?.access_token === 'string' && typeof body.refresh_token === 'string') {
          tokens.set({ access: body.access_token, refresh: body.refresh_token });
        }
        return undefined;
      }
      if (schemaPath === '/api/v1/auth/logout' && response.ok) tokens.set(undefined);
      const retry = pending.get(request);
      if (response.status !== 401 || !retry) return undefined;
      const sentWith = request.headers.get('authorization');
      const now = tokens.get()?.access;
      // Someone else refreshed while this request was on its way: just send it again.
      const refreshed = (now && sentWith !== `Bearer ${now}`) || (await refresh());
      if (!refreshed) return undefined;
      bearer(retry, tokens.get()?.access);
      return send(retry);
    },
  };
  api.use(auth);
  return { api, baseUrl: options.baseUrl, tokens, refresh };
}

// ---------------------------------------------------------------------------------------------
// PtitsPas live notifications: GET /api/v1/notifications/ws, opened with a single-use ticket.

export type PtitsPasNotification = Schemas['PtitsPasNotification'];

export interface LiveNotificationsOptions {
  onNotification(notification: PtitsPasNotification): void;
  /** Replay what followed this id first (the last one the app showed). */
  depuis?: string;
  /** Called once when the stream stops for good: `closed` (close()), `revoked` (the login is over). */
  onEnd?(reason: 'closed' | 'revoked'): void;
  /** The WebSocket class (default: the global one, as in browsers and Node.js 22+). */
  WebSocket?: typeof WebSocket;
}

export interface LiveNotifications {
  /** The id of the last notification delivered: what a later `depuis` should be. */
  readonly last: string | undefined;
  close(): void;
}

/** Close codes after which the same login reconnects from the last id (docs/ptitspas.md, Live delivery). */
const LIVE_RESUME = new Set([1001, 1006, 1011, 1012, 1013, 4429]);

/**
 * Delivers the account's notifications as they arrive, in id order and once each, across
 * reconnections: each socket opens with a fresh ticket (POST /notifications/ticket: browsers cannot
 * send an Authorization header) and `depuis` = the last id delivered. On 4401 the tokens are
 * refreshed and the stream reopens; when the refresh is refused the stream ends (`revoked`).
 */
export function liveNotifications(client: PtitsPasClient, options: LiveNotificationsOptions): LiveNotifications {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  let last = options.depuis;
  let socket: WebSocket | undefined;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const end = (reason: 'closed' | 'revoked') => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    options.onEnd?.(reason);
  };
  // Whatever fails while opening (the network, a refresh) is retried later, never thrown at the app.
  const reopen = () => void open().catch(retry);
  const retry = () => {
    failures++;
    timer = setTimeout(reopen, Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
  };

  async function open() {
    if (stopped) return;
    const ticket = await client.api.POST('/api/v1/notifications/ticket').catch(() => undefined);
    if (stopped) return;
    if (!ticket?.data) {
      if (ticket?.response.status === 401) end('revoked');
      else retry();
      return;
    }
    const url = new URL(`${client.baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/api/v1/notifications/ws`);
    url.searchParams.set('ticket', ticket.data.ticket);
    if (last) url.searchParams.set('depuis', last);
    const ws = new Socket(url);
    socket = ws;
    ws.onopen = () => {
      failures = 0;
    };
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; data: PtitsPasNotification };
      if (frame.type !== 'notification' || (last !== undefined && frame.data.id <= last)) return;
      last = frame.data.id;
      options.onNotification(frame.data);
    };
    ws.onclose = (event) => {
      socket = undefined;
      if (stopped) return;
      if (event.code === 4401) {
        // A refused refresh clears the tokens: the login is over. Any other failure is retried.
        client
          .refresh()
          .then((refreshed) => (refreshed ? reopen() : client.tokens.get() ? retry() : end('revoked')), retry);
      } else if (LIVE_RESUME.has(event.code)) retry();
      else end('closed');
    };
  }

  reopen();
  return {
    get last() {
      return last;
    },
    close() {
      end('closed');
      socket?.close(1000);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MedReport offline sync: pull changes after a cursor, push batches, and keep the cursor.

export type SyncEntity = 'patients' | 'prescriptions' | 'invoices' | 'files';
type Changes = NonNullable<Schemas['SyncChangesResponse']['changes']>;
export type SyncBatch = Omit<Schemas['SyncBatchBody'], 'cursor'>;
export type SyncBatchResult = Schemas['SyncBatchResponse'];

export interface SyncPull {
  /** Every change since the stored cursor, merged across pages, per entity, in commit order. */
  changes: Changes;
  /** True when the server no longer had the stored cursor's changes (410) and sent everything again. */
  resynced: boolean;
}

/**
 * The device's side of the sync protocol (docs/sync.md): the cursor is stored after every page,
 * so an interrupted pull resumes where it stopped; a cursor the server pruned (410) starts over
 * from a full snapshot; a push answers with the cursor to pull from next, which is stored too.
 */
export class MedReportSync {
  constructor(
    private readonly client: MedReportClient,
    readonly deviceId: string,
    readonly cursor: Store<string> = memoryStore<string>(),
  ) {}

  async pull(entities?: SyncEntity[], limit = 500): Promise<SyncPull> {
    const changes: Changes = {};
    let resynced = false;
    for (;;) {
      const since = this.cursor.get();
      const { data, response } = await this.client.api.GET('/api/sync/changes', {
        params: {
          query: { ...(since ? { since } : {}), ...(entities ? { entities } : {}), limit },
          header: { 'x-device-id': this.deviceId },
        },
      });
      if (response.status === 410 && !resynced) {
        this.cursor.set(undefined);
        resynced = true;
        for (const key of Object.keys(changes) as SyncEntity[]) delete changes[key];
        continue;
      }
      if (!data) throw new Error(`sync pull failed: ${response.status}`);
      for (const [entity, list] of Object.entries(data.changes) as Array<[SyncEntity, Changes[SyncEntity]]>) {
        changes[entity] ??= [];
        (changes[entity] as unknown[]).push(...(list ?? []));
      }
      this.cursor.set(data.cursor);
      if (!data.has_more) return { changes, resynced };
    }
  }

  async push(batch: SyncBatch): Promise<SyncBatchResult> {
    const since = this.cursor.get();
    const { data, response } = await this.client.api.POST('/api/sync/batch', {
      params: { header: { 'x-device-id': this.deviceId } },
      body: { ...batch, ...(since ? { cursor: since } : {}) },
    });
    if (!data) throw new Error(`sync push failed: ${response.status}`);
    this.cursor.set(data.cursor);
    return data;
  }
}
