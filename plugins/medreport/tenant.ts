import type { onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { forbidden } from '../errors.js';
import type { ExportSlot, Exports } from './exports.js';

type OrganizationRole = 'owner' | 'doctor';

interface Tenant {
  organizationId: number;
  role: OrganizationRole;
  /** The only handle tenant routes query with: confined to the organization by plugin and RLS. */
  readonly db: Kysely<Database>;
  /** A place for a streamed export, with a handle of its own (plugins/medreport/exports.ts); 429 past the bounds. */
  openExport(): ExportSlot;
}

class RequestTenant implements Tenant {
  constructor(
    readonly organizationId: number,
    readonly role: OrganizationRole,
    readonly db: Kysely<Database>,
    private readonly exports: Exports,
  ) {}

  openExport(): ExportSlot {
    return this.exports.admit(this.organizationId);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant;
  }
  interface FastifyContextConfig {
    /** Organization roles allowed on the route; every member when absent. Checked by `requireTenant`. */
    roles?: readonly OrganizationRole[];
  }
  interface FastifyInstance {
    /**
     * onRequest hook of the tenant scope, after `authenticate`: the caller's organization and role
     * come from their verified session (never from the request), 403 without one or with the
     * wrong role.
     */
    requireTenant: onRequestHookHandler;
    /**
     * onRequest hook of the platform administration scope (/api/admin), after `authenticate`:
     * 403 unless the caller is a platform administrator, whatever their organization role.
     */
    requireAdmin: onRequestHookHandler;
  }
}

export default fp(
  async (app) => {
    // Fastify's decorateRequest wants an initial value; requireTenant sets the real one before any handler.
    app.decorateRequest('tenant', null as unknown as Tenant);

    app.decorate<onRequestHookHandler>('requireTenant', (request, _reply, done) => {
      const { organization_id: organizationId, role } = request.user;
      if (organizationId === null || (role !== 'owner' && role !== 'doctor')) {
        return done(forbidden("Cette action nécessite d'appartenir à une organisation."));
      }
      const allowed = request.routeOptions.config.roles;
      if (allowed && !allowed.includes(role)) {
        return done(
          forbidden(
            allowed.length === 1 && allowed[0] === 'owner'
              ? "Action réservée au propriétaire de l'organisation."
              : 'Rôle insuffisant.',
          ),
        );
      }
      request.tenant = new RequestTenant(
        organizationId,
        role,
        app.tenantPool.forOrganization(organizationId),
        app.exports,
      );
      done();
    });

    app.decorate<onRequestHookHandler>('requireAdmin', (request, _reply, done) => {
      done(request.user.platform_role === 'admin' ? undefined : forbidden('Action réservée aux administrateurs.'));
    });
  },
  { name: 'tenant', dependencies: ['db', 'exports', 'medreport-auth'] },
);
