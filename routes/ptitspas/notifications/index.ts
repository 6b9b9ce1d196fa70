import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  countUnread,
  listNotifications,
  markAllRead,
  markRead,
} from '../../../domain/ptitspas/notifications/queries.js';
import { createTicket } from '../../../domain/ptitspas/notifications/tickets.js';
import { HttpError } from '../../../plugins/errors.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import {
  Counter,
  LIVE_STREAM,
  LiveFrame,
  LiveQuery,
  MarkedRead,
  Notification,
  NotificationList,
  NotificationParams,
  NotificationQuery,
  Ticket,
} from './schemas.js';

const tags = ['ptitspas-notifications'];
/** Each opening socket's starting point, from its preHandler to its wsHandler. */
const startingPoints = new WeakMap<FastifyRequest, string>();
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

  app.route({
    method: 'GET',
    url: '/notifications/ws',
    config: { ptitspasRoles: EVERY_ROLE, ptitspasTicket: true },
    schema: {
      operationId: 'ptitspasNotificationStream',
      tags,
      summary: 'Flux temps réel de ses notifications (WebSocket)',
      description: LIVE_STREAM,
      security,
      querystring: LiveQuery,
      response: { 101: LiveFrame, ...errors(400, 426) },
    },
    // Before the upgrade: refused as an HTTP answer when there are too many sockets (this account's,
    // this server's); otherwise the stream's starting point is fixed before the client sees it open.
    preHandler: async (request: FastifyRequest<{ Querystring: Static<typeof LiveQuery> }>) => {
      const refusal = app.ptitspasLive.hub.refusal(request.ptitspasUser.id);
      if (refusal) throw new HttpError(429, refusal);
      if (request.ws) {
        const depuis = request.query.depuis?.toLowerCase();
        startingPoints.set(request, await app.ptitspasLive.hub.startingPoint(request.ptitspasUser.id, depuis));
      }
    },
    // A plain GET (no upgrade): say how to open the stream.
    handler: async () => {
      throw new HttpError(426, 'Ouvrez cette route en WebSocket (Upgrade: websocket).', {
        headers: { upgrade: 'websocket', connection: 'Upgrade' },
      });
    },
    wsHandler: (socket, request) => {
      const { id, familyId } = request.ptitspasUser;
      const who = { userId: id, familyId, expiresAt: request.ptitspasAccessEnds };
      app.ptitspasLive.hub.open(socket, who, startingPoints.get(request)!);
    },
  });
};

export default notificationRoutes;
