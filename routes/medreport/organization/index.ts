import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { registerAccount } from '../../../domain/medreport/accounts/login.js';
import {
  joinOrganization,
  organizationOfCode,
  registerOwner,
} from '../../../domain/medreport/organizations/membership.js';
import {
  findOrganization,
  renameOrganization,
  rotateCode,
} from '../../../domain/medreport/organizations/organizations.js';
import { errorResponses } from '../../../plugins/errors.js';
import { byUser, sessionOpener } from '../../../plugins/medreport/auth.js';
import { registrationGuard } from '../auth/registration.js';
import { toUserResource } from '../users/schemas.js';
import {
  CodeRotated,
  DoctorRegistered,
  JoinBody,
  Joined,
  OrganizationUpdated,
  OrganizationWithRole,
  OwnerRegistered,
  RegisterDoctorBody,
  RegisterOwnerBody,
  RenameBody,
  toOrganizationResource,
} from './schemas.js';

/** Public: create an organization with its owner, or join one as a doctor with its code. */
export const registrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;
  // Shares its counter with /register: the spec's "/api/register*" limit.
  const registration = registrationGuard(app);

  app.post(
    '/register-owner',
    {
      preHandler: registration,
      schema: {
        operationId: 'registerOwner',
        tags: ['organization'],
        summary: 'Create an organization and its owner account',
        body: RegisterOwnerBody,
        response: { 201: OwnerRegistered, ...errorResponses('medreport', 422, 429) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const result = await registerOwner(
        app.systemDb,
        body,
        body.organization_name,
        passwordHash,
        sessionOpener(app, request),
      );
      return reply.code(201).send({
        user: toUserResource(result.user, publicUrl),
        token: result.token,
        organization: toOrganizationResource(result.organization),
        organization_code: result.organization.code,
      });
    },
  );

  app.post(
    '/register-doctor',
    {
      preHandler: registration,
      schema: {
        operationId: 'registerDoctor',
        tags: ['organization'],
        summary: 'Create a doctor account inside the organization whose current code is given',
        body: RegisterDoctorBody,
        response: { 201: DoctorRegistered, ...errorResponses('medreport', 422, 429) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const organization = await organizationOfCode(app.systemDb, body.organization_code);
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const result = await registerAccount(
        app.systemDb,
        body,
        { passwordHash, role: 'doctor', organizationId: organization.id },
        sessionOpener(app, request),
      );
      return reply.code(201).send({
        user: toUserResource(result.user, publicUrl),
        token: result.token,
        organization: toOrganizationResource(organization),
      });
    },
  );
};

/** Authenticated, for users without an organization yet. */
export const joinRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;

  app.post(
    '/user/profile/join-organization',
    {
      onRequest: app.limit('join-organization', { max: 10, timeWindow: '1 hour', per: byUser }),
      schema: {
        operationId: 'joinOrganization',
        tags: ['organization'],
        summary: 'Join an organization as a doctor with its code',
        security: [{ bearerAuth: [] }],
        body: JoinBody,
        response: { 200: Joined, ...errorResponses('medreport', 401, 403, 409, 422, 429) },
      },
    },
    async (request) => {
      const { user, organization } = await joinOrganization(app.systemDb, request.user, request.body.organization_code);
      return {
        message: 'Organisation rejointe avec succès',
        organization: toOrganizationResource(organization),
        user: toUserResource(user, publicUrl),
      };
    },
  );
};

/** Tenant scope: the caller's own organization. */
export const organizationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }];

  app.get(
    '/organization',
    {
      schema: {
        operationId: 'getOrganization',
        tags: ['organization'],
        summary: 'The caller’s organization and their role in it',
        security,
        response: { 200: OrganizationWithRole, ...errorResponses('medreport', 401, 403) },
      },
    },
    async (request) => ({
      organization: toOrganizationResource(await findOrganization(request.tenant.db, request.tenant.organizationId)),
      role: request.tenant.role,
    }),
  );

  app.put(
    '/organization',
    {
      config: { roles: ['owner'] },
      schema: {
        operationId: 'updateOrganization',
        tags: ['organization'],
        summary: 'Rename the organization (owner only)',
        security,
        body: RenameBody,
        response: { 200: OrganizationUpdated, ...errorResponses('medreport', 401, 403, 422) },
      },
    },
    async (request) => ({
      organization: toOrganizationResource(
        await renameOrganization(request.tenant.db, request.tenant.organizationId, request.body.name),
      ),
      message: 'Organisation mise à jour avec succès',
    }),
  );

  app.post(
    '/organization/rotate-code',
    {
      config: { roles: ['owner'] },
      schema: {
        operationId: 'rotateOrganizationCode',
        tags: ['organization'],
        summary: 'Issue a new invitation code; the old one stops working at once (owner only)',
        security,
        response: { 200: CodeRotated, ...errorResponses('medreport', 401, 403) },
      },
    },
    async (request) => {
      const organization = await rotateCode(request.tenant.db, request.tenant.organizationId);
      return {
        message: "Code d'organisation renouvelé avec succès",
        code: organization.code,
        organization: toOrganizationResource(organization),
      };
    },
  );
};
