import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { conflict, errorResponses, forbidden, unprocessable } from '../../../plugins/errors.js';
import { byUser } from '../../../plugins/medreport/auth.js';
import { createUser } from '../users/queries.js';
import { assertConfirmed, assertPastDate } from '../users/rules.js';
import { toUserResource } from '../users/schemas.js';
import {
  createOrganization,
  findOrganization,
  findOrganizationByCode,
  renameOrganization,
  rotateCode,
} from './queries.js';
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

const INVALID_CODE = "Code d'organisation invalide.";
const invalidCode = () => unprocessable(INVALID_CODE, { organization_code: [INVALID_CODE] });

/** Public: create an organization with its owner, or join one as a doctor with its code. */
export const registrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl } = app.config;
  // Shares its counter with /register: the spec's "/api/register*" limit.
  const registerLimit = app.limit('register', { max: 3, timeWindow: '1 hour', per: 'ip' });

  app.post(
    '/register-owner',
    {
      onRequest: registerLimit,
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
      assertConfirmed(body.password, body.password_confirmation);
      assertPastDate('birth_date', body.birth_date);
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const result = await app.systemDb.transaction().execute(async (trx) => {
        const owner = await createUser(trx, body, { passwordHash, role: 'owner' });
        const organization = await createOrganization(trx, body.organization_name, owner.id);
        const user = await trx
          .updateTable('medreport.users')
          .set({ organization_id: organization.id })
          .where('id', '=', owner.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { user, organization, token: await app.issueToken(trx, user.id, user.uuid, request) };
      });
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
      onRequest: registerLimit,
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
      assertConfirmed(body.password, body.password_confirmation);
      assertPastDate('birth_date', body.birth_date);
      const organization = await findOrganizationByCode(app.systemDb, body.organization_code);
      if (!organization) throw invalidCode();
      const passwordHash = await app.passwords.for(request).hash(body.password);
      const result = await app.systemDb.transaction().execute(async (trx) => {
        const user = await createUser(trx, body, {
          passwordHash,
          role: 'doctor',
          organizationId: organization.id,
        });
        return { user, token: await app.issueToken(trx, user.id, user.uuid, request) };
      });
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
      if (request.user.platform_role === 'admin')
        throw forbidden('Un administrateur ne peut pas rejoindre une organisation.');
      if (request.user.organization_id !== null) throw conflict('Vous appartenez déjà à une organisation.');
      const organization = await findOrganizationByCode(app.systemDb, request.body.organization_code);
      if (!organization) throw invalidCode();
      // Conditional on still having no organization: two joins racing cannot both win.
      const user = await app.systemDb
        .updateTable('medreport.users')
        .set({ organization_id: organization.id, role: 'doctor', updated_at: new Date() })
        .where('id', '=', request.user.id)
        .where('organization_id', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!user) throw conflict('Vous appartenez déjà à une organisation.');
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
      organization: toOrganizationResource(await findOrganization(app.systemDb, request.tenant.organizationId)),
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
        await renameOrganization(app.systemDb, request.tenant.organizationId, request.body.name),
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
      const organization = await rotateCode(app.systemDb, request.tenant.organizationId);
      return {
        message: "Code d'organisation renouvelé avec succès",
        code: organization.code,
        organization: toOrganizationResource(organization),
      };
    },
  );
};
