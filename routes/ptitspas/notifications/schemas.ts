import { Type } from '@sinclair/typebox';
import { Notification, NotificationListOptions } from '../../../domain/ptitspas/notifications/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /notifications. */
export { Notification };
export const NotificationQuery = NotificationListOptions;
export const NotificationList = { ...Type.Array(Notification), headers: TotalHeader };
export const NotificationParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const Counter = Type.Object({ non_lues: Type.Integer() });
export const MarkedRead = Type.Object({ modifiees: Type.Integer() });
export const Ticket = Type.Object({
  ticket: Type.String({ description: 'À passer une fois, dans les 30 secondes : GET /notifications/ws?ticket=' }),
  expire_le: Type.String({ format: 'date-time' }),
});

export const LiveQuery = Type.Object({
  depuis: Type.Optional(
    Type.String({ format: 'uuid', description: 'Rejouer d’abord ses notifications après celle-ci (au plus 1 000)' }),
  ),
  ticket: Type.Optional(
    Type.String({ maxLength: 100, description: 'Pour un navigateur : le ticket de POST /notifications/ticket' }),
  ),
});

/** Each text frame the server sends on the stream. */
export const LiveFrame = Type.Object(
  { type: Type.Literal('notification'), data: Notification },
  { description: 'Connexion établie (101) ; chaque trame texte est un objet de cette forme' },
);

export const LIVE_STREAM = `Ouvre un WebSocket (\`GET\` avec \`Upgrade: websocket\`) authentifié avant la mise à niveau :
\`Authorization: Bearer <jeton d’accès>\`, ou \`?ticket=\` (POST /notifications/ticket, 30 s, usage unique) pour un navigateur.
Sans ou avec un mauvais jeton : 401, avant toute mise à niveau ; trop de connexions : 429 ; sans \`Upgrade\` : 426.

Trames (texte, JSON) : \`{ "type": "notification", "data": <Notification> }\`, dans l’ordre des id, sans doublon.
\`?depuis=<id>\` rejoue d’abord les notifications suivantes (lues ou non, au plus 1 000), puis le direct suit
sans trou ni répétition. Sans \`depuis\`, seules les nouvelles arrivent. Le client n’envoie rien (au-delà de 1 Kio : fermeture).

Le serveur envoie un ping toutes les 30 s (un client qui n’a pas répondu au précédent est coupé). Codes de fermeture :
4401 session révoquée, compte suspendu ou jeton expiré (se reconnecter après connexion) ;
4429 client trop lent (plus de 1 Mio en attente) : se reconnecter avec \`depuis\` = le dernier id reçu ;
1001 arrêt du serveur : se reconnecter avec \`depuis\`.`;
