import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  createConversation,
  listConversations,
  listMessages,
  markConversationRead,
  postMessage,
} from '../../../domain/ptitspas/messages/conversations.js';
import {
  Conversation,
  ConversationBody,
  LuBody,
  Message,
  MessageBody,
  MessagePage,
} from '../../../domain/ptitspas/messages/model.js';
import { authenticatedErrors as errors, security } from '../responses.js';

const tags = ['ptitspas-messages'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;
const ConversationParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** /messages: conversations and their messages (domain/ptitspas/messages/conversations.ts). */
const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/messages/conversations',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasCreateConversation',
        tags,
        summary: 'Ouvrir une conversation (403 si deux membres ne peuvent pas échanger)',
        security,
        body: ConversationBody,
        response: { 201: Conversation, ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createConversation(app.systemDb, request.ptitspasUser, request.body)),
  );

  app.get(
    '/messages/conversations',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasListConversations',
        tags,
        summary: 'Ses conversations, la plus récemment active d’abord, avec ses non lus',
        security,
        response: { 200: Type.Array(Conversation), ...errors() },
      },
    },
    async (request) => listConversations(app.systemDb, request.ptitspasUser),
  );

  app.get(
    '/messages/conversations/:id/messages',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasListMessages',
        tags,
        summary: 'Les messages, du plus récent au plus ancien ; `avant` pour la page suivante',
        security,
        params: ConversationParams,
        querystring: MessagePage,
        response: { 200: Type.Array(Message), ...errors(400, 404) },
      },
    },
    async (request) => listMessages(app.systemDb, request.ptitspasUser, request.params.id, request.query),
  );

  app.post(
    '/messages/conversations/:id/messages',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasPostMessage',
        tags,
        summary: 'Écrire dans une conversation ; les autres membres sont notifiés',
        security,
        params: ConversationParams,
        body: MessageBody,
        response: { 201: Message, ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await postMessage(app.systemDb, request.ptitspasUser, request.params.id, request.body)),
  );

  app.patch(
    '/messages/conversations/:id/lu',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasReadConversation',
        tags,
        summary: 'Marquer lu tout ce qui précède un message (inclus)',
        security,
        params: ConversationParams,
        body: LuBody,
        response: { 200: Conversation, ...errors(400, 404) },
      },
    },
    async (request) => markConversationRead(app.systemDb, request.ptitspasUser, request.params.id, request.body.jusqua),
  );
};

export default messageRoutes;
