import { hkdfSync, randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import type { FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { PtitsPasRole } from '../../db/schema.js';
import { callerOfLogin } from '../../domain/ptitspas/accounts/sessions.js';
import type { PtitsPasCaller } from '../../domain/ptitspas/caller.js';
import { spendTicket } from '../../domain/ptitspas/notifications/tickets.js';
import { forbidden, unauthorized } from '../errors.js';
import type { PtitsPasAccess } from './caller-cache.js';

declare module 'fastify' {
  interface FastifyRequest {
    ptitspasUser: PtitsPasCaller;
    /** When the caller's access ends (ms since the epoch): the token's expiry, or a ticket's socket lifetime. */
    ptitspasAccessEnds: number;
  }
  interface FastifyContextConfig {
    /** PtitsPas: the roles allowed on the route, or 'any' authenticated caller. Required in the authenticated scope. */
    ptitspasRoles?: readonly PtitsPasRole[] | 'any';
    /** PtitsPas: the route also accepts a WebSocket ticket (`?ticket=`) in place of the Bearer token. */
    ptitspasTicket?: boolean;
  }
  interface FastifyInstance {
    /** A signed PtitsPas access token (15 minutes) for the user's refresh family. */
    signPtitsPasAccess(user: { id: string; role: PtitsPasRole }, familyId: string): string;
    /** AuthGuard: 401 without a valid access token of a live login, 403 for an account that is not active. */
    ptitspasAuthenticate: onRequestHookHandler;
    /** RolesGuard, after ptitspasAuthenticate: 403 unless the caller's role is one the route allows. */
    ptitspasAuthorize: onRequestHookHandler;
  }
}

const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const AUDIENCE = 'ptitspas';
const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * PtitsPas's token verifier and role guard, registered inside the /api/v1 tree only. Its key is
 * derived from JWT_SECRET for this purpose alone (HKDF), and its tokens carry their own audience:
 * a MedReport token fails its signature check here, and a PtitsPas token fails MedReport's.
 */
export default fp<{ secret: string }>(
  async (app, { secret }) => {
    const key = Buffer.from(hkdfSync('sha256', secret, '', 'ptitspas access token', 32));
    const sign = createSigner({
      key,
      algorithm: 'HS256',
      aud: AUDIENCE,
      iss: AUDIENCE,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS * 1000,
    });
    // fast-jwt checks aud and iss only when present: a token signed with the key but lacking them
    // (or an expiry) must not pass for a PtitsPas access token.
    const verify = createVerifier({
      key,
      algorithms: ['HS256'],
      allowedAud: AUDIENCE,
      allowedIss: AUDIENCE,
      requiredClaims: ['aud', 'iss', 'exp'],
    });

    const cache = app.ptitspasCallerCache;

    // Fastify's decorateRequest wants an initial value; the auth hook sets the real one before any handler.
    app.decorateRequest('ptitspasUser', null as unknown as PtitsPasCaller);
    app.decorateRequest('ptitspasAccessEnds', 0);
    app.decorate('signPtitsPasAccess', (user: { id: string; role: PtitsPasRole }, familyId: string) =>
      // jti: two tokens issued within the same second still differ.
      sign({ sub: user.id, fid: familyId, role: user.role, jti: randomUUID() }),
    );

    /**
     * The access `token` grants: its live login's caller, until the token's expiry. A revoked login
     * or an account that is not active is refused (domain/ptitspas/accounts/sessions.ts). Kept by
     * token once verified (the hook looks there first), so a warm request costs neither the
     * signature check nor a query; the cache forgets a login or an account as soon as either
     * changes (plugins/ptitspas/caller-cache.ts).
     */
    async function callerOf(token: string): Promise<PtitsPasAccess> {
      const generation = cache.generation;
      let payload: { sub?: unknown; fid?: unknown; exp?: number };
      try {
        payload = verify(token) as typeof payload;
      } catch {
        throw unauthorized('Jeton invalide ou expiré.');
      }
      const { sub, fid } = payload;
      if (typeof sub !== 'string' || typeof fid !== 'string') throw unauthorized('Jeton invalide.');
      const access = { caller: await callerOfLogin(app.pool, fid, sub), endsAt: (payload.exp ?? 0) * 1000 };
      cache.set(token, [`f:${fid}`, `u:${sub}`], access, generation, access.endsAt);
      return access;
    }

    /** A WebSocket ticket, spent: its login's caller, for an access token's lifetime from now. */
    async function callerOfTicket(ticket: string) {
      const login = await spendTicket(app.systemDb, ticket);
      if (!login) throw unauthorized('Ticket invalide, expiré ou déjà utilisé.');
      const caller = await callerOfLogin(app.pool, login.familyId, login.userId);
      return { caller, endsAt: Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000 };
    }

    // Callback-style, as MedReport's: a warm token is admitted without a promise or a round trip.
    app.decorate<onRequestHookHandler>('ptitspasAuthenticate', (request, _reply, done) => {
      const admit = ({ caller, endsAt }: PtitsPasAccess) => {
        request.ptitspasUser = caller;
        request.ptitspasAccessEnds = endsAt;
        done();
      };
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      const cached = token ? cache.get(token) : undefined;
      if (cached) return admit(cached);
      const ticket = request.routeOptions.config.ptitspasTicket ? ticketOf(request.url) : undefined;
      if (!token && !ticket) return done(unauthorized('Non authentifié.'));
      (token ? callerOf(token) : callerOfTicket(ticket!)).then(admit, done);
    });

    app.decorate<onRequestHookHandler>('ptitspasAuthorize', (request, _reply, done) => {
      const allowed = request.routeOptions.config.ptitspasRoles;
      if (allowed === 'any' || allowed?.includes(request.ptitspasUser.role)) return done();
      done(forbidden('Accès refusé : rôle insuffisant'));
    });
  },
  { name: 'ptitspas-auth', dependencies: ['db', 'ptitspas-caller-cache'] },
);

/** `?ticket=` of a URL (onRequest runs before the query string is parsed and validated). */
function ticketOf(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query === -1) return undefined;
  const ticket = new URLSearchParams(url.slice(query + 1)).get('ticket');
  return ticket && ticket.length <= 100 ? ticket : undefined;
}

/**
 * onRoute hook of the authenticated scope: a route that does not say who may call it is refused
 * at start-up, so a forgotten role list can never mean "everyone".
 */
export function requireDeclaredRoles(route: RouteOptions): void {
  const roles = route.config?.ptitspasRoles;
  if (roles !== 'any' && !(Array.isArray(roles) && roles.length > 0)) {
    throw new Error(`PtitsPas route ${String(route.method)} ${route.url} declares no config.ptitspasRoles`);
  }
}

/** Rate-limit key of PtitsPas's authenticated routes: the caller's account. */
export const byCaller = (request: FastifyRequest) => request.ptitspasUser.id;
