import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  countUnread,
  listNotifications,
  markAllRead,
  markRead,
} from '../../../domain/ptitspas/notifications/queries.js';
import { createTicket } from '../../../domain/ptitspas/notifications/tickets.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import {
  Counter,
  MarkedRead,
  Notification,
  NotificationList,
  NotificationParams,
  NotificationQuery,
  Ticket,
} from './schemas.js';

const tags = ['ptitspas-notifications'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;

/**
 * /notifications: each account reads and marks its own (domain/ptitspas/notifications/). The rows
 * are written by their causes, in the causes' transactions (notify.ts).
 */
const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/notifications',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasListNotifications',
        tags,
        summary: 'Ses notifications, les plus récentes d’abord (paginée, total dans X-Total-Count)',
        security,
        querystring: NotificationQuery,
        response: { 200: NotificationList, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listNotifications(app.systemDb, request.ptitspasUser.id, request.query);
      return reply.header('x-total-count', total).send(rows);
    },
  );

  app.get(
    '/notifications/compteur',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasCountNotifications',
        tags,
        summary: 'Le nombre de ses notifications non lues',
        security,
        response: { 200: Counter, ...errors() },
      },
    },
    async (request) => countUnread(app.systemDb, request.ptitspasUser.id),
  );

  app.patch(
    '/notifications/:id/lue',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasReadNotification',
        tags,
        summary: 'Marquer une de ses notifications comme lue (404 pour celle d’un autre)',
        security,
        params: NotificationParams,
        response: { 200: Notification, ...errors(400, 404) },
      },
    },
    async (request) => markRead(app.systemDb, request.ptitspasUser.id, request.params.id),
  );

  app.patch(
    '/notifications/lues',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasReadAllNotifications',
        tags,
        summary: 'Marquer toutes ses notifications comme lues',
        security,
        response: { 200: MarkedRead, ...errors() },
      },
    },
    async (request) => markAllRead(app.systemDb, request.ptitspasUser.id),
  );

  app.post(
    '/notifications/ticket',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasCreateNotificationTicket',
        tags,
        summary: 'Un ticket à usage unique (30 s) pour ouvrir le flux temps réel depuis un navigateur',
        security,
        response: { 201: Ticket, ...errors() },
      },
    },
    async (request, reply) => reply.code(201).send(await createTicket(app.systemDb, request.ptitspasUser)),
  );
};

export default notificationRoutes;
