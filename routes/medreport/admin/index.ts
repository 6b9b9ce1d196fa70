import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { dashboard } from '../../../domain/medreport/admin/stats.js';
import {
  adminAction,
  deleteUser,
  findUser,
  listUsers,
  setStatus,
  updateUser,
} from '../../../domain/medreport/admin/users.js';
import { errorResponses } from '../../../plugins/errors.js';
import {
  DashboardStats,
  Deleted,
  StatusChange,
  toAdminUser,
  UserChanged,
  UserDetail,
  UserIdParams,
  UsersPage,
  UsersQuery,
  UserUpdate,
} from './schemas.js';

/**
 * Platform administration (docs/admin.md), mounted at /api/admin inside the authenticated scope;
 * the scope's guard lets platform administrators only. Accounts are read and changed through
 * `app.systemDb` (users are not tenant data); records of every organization are read through
 * `app.crossOrganizationDb` and nothing else.
 */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireAdmin);
  const security = [{ bearerAuth: [] }];
  const tags = ['admin'];
  const admin = (request: { user: { id: number; name: string } }) => ({ id: request.user.id, name: request.user.name });

  app.get(
    '/dashboard/stats',
    {
      schema: {
        operationId: 'adminDashboardStats',
        tags,
        summary: 'Platform figures, new accounts per day, latest activity across organizations',
        security,
        response: { 200: DashboardStats, ...errorResponses('medreport', 401, 403) },
      },
    },
    async () => dashboard(app.crossOrganizationDb),
  );

  app.get(
    '/users',
    {
      schema: {
        operationId: 'adminListUsers',
        tags,
        summary: 'Accounts, newest first: search (name, e-mail, speciality, order number), filters, pages',
        security,
        querystring: UsersQuery,
        response: { 200: UsersPage, ...errorResponses('medreport', 401, 403, 422) },
      },
    },
    async (request) => {
      const { page, limit } = request.query;
      const { rows, total } = await listUsers(app.systemDb, request.query);
      return {
        data: rows.map(toAdminUser),
        total,
        currentPage: page,
        perPage: limit,
        lastPage: Math.max(1, Math.ceil(total / limit)),
      };
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        operationId: 'adminGetUser',
        tags,
        summary: 'One account, with its roles',
        security,
        params: UserIdParams,
        response: { 200: UserDetail, ...errorResponses('medreport', 401, 403, 404, 422) },
      },
    },
    async (request) => ({ user: toAdminUser(await findUser(app.systemDb, request.params.id)) }),
  );

  app.put(
    '/users/:id',
    {
      schema: {
        operationId: 'adminUpdateUser',
        tags,
        summary: 'Change an account’s profile, or grant or remove platform administration',
        security,
        params: UserIdParams,
        body: UserUpdate,
        response: { 200: UserChanged, ...errorResponses('medreport', 401, 403, 404, 409, 415, 422) },
      },
    },
    async (request) => {
      const { id } = request.params;
      await adminAction(app.systemDb, admin(request), id, 'admin.user.updated', (trx, target) =>
        updateUser(trx, target, request.body),
      );
      return {
        success: true as const,
        message: 'Utilisateur mis à jour.',
        user: toAdminUser(await findUser(app.systemDb, id)),
      };
    },
  );

  app.patch(
    '/users/:id/status',
    {
      schema: {
        operationId: 'adminSetUserStatus',
        tags,
        summary: 'Suspend an account (every session ends at once) or reactivate it',
        security,
        params: UserIdParams,
        body: StatusChange,
        response: { 200: UserChanged, ...errorResponses('medreport', 401, 403, 404, 409, 415, 422) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { status } = request.body;
      const action = status === 'suspended' ? 'admin.user.suspended' : 'admin.user.activated';
      await adminAction(app.systemDb, admin(request), id, action, (trx, target) => setStatus(trx, target, status));
      return {
        success: true as const,
        message: status === 'suspended' ? 'Compte suspendu.' : 'Compte réactivé.',
        user: toAdminUser(await findUser(app.systemDb, id)),
      };
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        operationId: 'adminDeleteUser',
        tags,
        summary: 'Delete an account: personal data removed, activity kept anonymised',
        security,
        params: UserIdParams,
        response: { 200: Deleted, ...errorResponses('medreport', 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const avatar = await adminAction(
        app.systemDb,
        admin(request),
        request.params.id,
        'admin.user.deleted',
        deleteUser,
      );
      if (avatar) {
        await app.storage.remove(`avatars/${avatar}`).catch((err: unknown) => {
          request.log.warn({ err, avatar }, 'could not remove a deleted account’s avatar');
        });
      }
      return { success: true as const, message: 'Utilisateur supprimé.' };
    },
  );
};

export default adminRoutes;
