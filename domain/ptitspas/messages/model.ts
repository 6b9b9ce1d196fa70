import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../../shared/schemas.js';
import { Uuid } from '../accounts/model.js';

const Timestamp = Type.String({ format: 'date-time' });

export const ConversationBody = Type.Object({
  participants: Type.Array(Uuid, {
    minItems: 1,
    maxItems: 20,
    uniqueItems: true,
    description: 'Les autres comptes ; le créateur est ajouté (et peut y figurer)',
  }),
  sujet: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  id_enfant: Type.Optional(Nullable(Uuid)),
});
export type ConversationBody = Static<typeof ConversationBody>;

export const Conversation = Type.Object(
  {
    id: Uuid,
    sujet: Type.String(),
    id_enfant: Nullable(Uuid),
    participants: Type.Array(Uuid, { description: 'Chaque membre, le créateur compris' }),
    non_lus: Type.Integer({ description: 'Messages des autres après sa marque de lecture' }),
    cree_le: Timestamp,
    modifie_le: Timestamp,
  },
  { $id: 'PtitsPasConversation' },
);
export type Conversation = Static<typeof Conversation>;

export const MessageBody = Type.Object({
  contenu: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }),
  id_upload: Type.Optional(Nullable(Uuid)),
});
export type MessageBody = Static<typeof MessageBody>;

export const Message = Type.Object(
  {
    id: Uuid,
    id_conversation: Uuid,
    id_auteur: Nullable(Uuid),
    contenu: Type.String(),
    id_upload: Nullable(Uuid),
    cree_le: Timestamp,
  },
  { $id: 'PtitsPasMessageConversation' },
);
export type Message = Static<typeof Message>;

export const MessagePage = Type.Object({
  avant: Type.Optional(Type.String({ format: 'uuid', description: 'Les messages plus anciens que celui-ci' })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});
export type MessagePage = Static<typeof MessagePage>;

export const LuBody = Type.Object({
  jusqua: Type.String({ format: 'uuid', description: 'Un message de la conversation : tout jusqu’à lui est lu' }),
});
