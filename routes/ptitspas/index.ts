import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { Conversation, Message as ConversationMessage } from '../../domain/ptitspas/messages/model.js';
import { installApiBoundary } from '../../plugins/boundary.js';
import auth, { byCaller, requireDeclaredRoles } from '../../plugins/ptitspas/auth.js';
import assistanteMaternelleRoutes from './assistantes-maternelles/index.js';
import { AssistanteMaternelle, AssistanteMaternelleSummary } from './assistantes-maternelles/schemas.js';
import { publicAuthRoutes, sessionRoutes } from './auth/index.js';
import { LoginResponse, Me, TokenPair } from './auth/schemas.js';
import { contratRoutes, verificationRoutes } from './contrats/index.js';
import { Contrat } from './contrats/schemas.js';
import dossierRoutes from './dossiers/index.js';
import { Dossier } from './dossiers/schemas.js';
import enfantRoutes from './enfants/index.js';
import { Enfant } from './enfants/schemas.js';
import evenementRoutes from './evenements/index.js';
import { Evenement } from './evenements/schemas.js';
import gestionnaireRoutes from './gestionnaires/index.js';
import messageRoutes from './messages/index.js';
import notificationRoutes from './notifications/index.js';
import { Notification } from './notifications/schemas.js';
import parentRoutes from './parents/index.js';
import { Parent } from './parents/schemas.js';
import rootRoutes from './root/index.js';
import uploadRoutes from './uploads/index.js';
import { Upload } from './uploads/schemas.js';
import userRoutes from './users/index.js';
import { AccountMessage, CreatedUser, Message, UserDetail, UserSummary } from './users/schemas.js';

// The document's plan: 100 requests a minute per client (an address before login, an account after).
const PER_MINUTE = { max: 100, timeWindow: '1 minute' };

/**
 * The PtitsPas API, mounted under /api/v1, in its own encapsulated scopes: its error and
 * not-found handlers, its token verifier (AuthGuard) and role guard (RolesGuard), none of which
 * MedReport's tree shares. Public routes, then the authenticated scope, where every route declares
 * the roles allowed on it (`config.ptitspasRoles`) or fails to register.
 */
const ptitspas: FastifyPluginAsync = async (app) => {
  installApiBoundary(app, 'ptitspas');
  await app.register(auth, { secret: app.config.jwtSecret });
  const { hub } = app.ptitspasLive;
  await app.register(websocket, {
    // Clients send nothing: a frame beyond 1 KiB ends the socket.
    options: { maxPayload: 1024 },
    // At shutdown the hub closes its sockets with 1001 (reconnect with ?depuis=) before the server goes.
    preClose(done) {
      hub.close().then(() => this.websocketServer.close(() => done()), done);
    },
  });
  for (const schema of [
    UserSummary,
    UserDetail,
    CreatedUser,
    Message,
    AccountMessage,
    LoginResponse,
    TokenPair,
    Me,
    Parent,
    Enfant,
    AssistanteMaternelle,
    AssistanteMaternelleSummary,
    Upload,
    Dossier,
    Contrat,
    Notification,
    Evenement,
    Conversation,
    ConversationMessage,
  ]) {
    app.addSchema(schema);
  }

  await app.register(async function publicScope(scope) {
    scope.addHook('onRequest', scope.limit('ptitspas-public', { ...PER_MINUTE, per: 'ip' }));
    await scope.register(rootRoutes);
    await scope.register(publicAuthRoutes);
    await scope.register(verificationRoutes);
  });

  await app.register(async function authenticatedScope(scope) {
    scope.addHook('onRoute', requireDeclaredRoles);
    scope.addHook('onRequest', scope.ptitspasAuthenticate);
    scope.addHook('onRequest', scope.limit('ptitspas', { ...PER_MINUTE, per: byCaller }));
    scope.addHook('onRequest', scope.ptitspasAuthorize);
    await scope.register(sessionRoutes);
    await scope.register(userRoutes);
    await scope.register(gestionnaireRoutes);
    await scope.register(parentRoutes);
    await scope.register(enfantRoutes);
    await scope.register(assistanteMaternelleRoutes);
    await scope.register(uploadRoutes);
    await scope.register(dossierRoutes);
    await scope.register(contratRoutes);
    await scope.register(notificationRoutes);
    await scope.register(evenementRoutes);
    await scope.register(messageRoutes);
  });
};

export default ptitspas;
