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
