import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { Uuid } from '../accounts/model.js';
import { Page } from '../lists.js';

/** What a notification is in the API (ptitspas-evolutions.md, Notifications). */
const TYPES = [
  'compte_valide',
  'dossier_soumis',
  'dossier_valide',
  'dossier_a_completer',
  'contrat_propose',
  'contrat_signe',
  'evenement',
  'message',
] as const;
const Timestamp = Type.String({ format: 'date-time' });

export const Notification = Type.Object(
  {
    id: Uuid,
    type: StringEnum(TYPES),
    titre: Type.String(),
    corps: Type.String(),
    lien: Type.Object({
      type: StringEnum(['dossier', 'contrat', 'evenement', 'conversation', 'utilisateur'] as const),
      id: Uuid,
    }),
    cree_le: Timestamp,
    lue_le: Nullable(Timestamp),
  },
  { $id: 'PtitsPasNotification' },
);
export type Notification = Static<typeof Notification>;

export const NotificationListOptions = Type.Object({
  ...Page,
  non_lues: Type.Optional(Type.Boolean({ description: 'true : seulement les non lues' })),
});
export type NotificationListOptions = Static<typeof NotificationListOptions>;
