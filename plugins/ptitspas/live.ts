import fp from 'fastify-plugin';
import { ChannelListener } from '../../db/listener.js';
import { AUTH_CHANNEL, type HubLimits, NOTIFICATIONS_CHANNEL, NotificationHub } from './notification-hub.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** PtitsPas live notifications: this instance's sockets and the listener that feeds them. */
    ptitspasLive: { hub: NotificationHub; listener: ChannelListener };
  }
}

/**
 * Live notification delivery: a listener connection per instance (db/listener.ts) feeds the hub,
 * which delivers to this instance's sockets whichever instance wrote the notification. The
 * WebSocket server itself is the PtitsPas tree's (routes/ptitspas/index.ts).
 */
export default fp<{ listenUrl: string; limits: HubLimits }>(
  async (app, { listenUrl, limits }) => {
    const hub = new NotificationHub(app.systemDb, limits, app.log);
    const listener = new ChannelListener(listenUrl, [NOTIFICATIONS_CHANNEL, AUTH_CHANNEL], hub, (err) =>
      app.log.warn({ err }, 'live notifications: listener connection lost, catching up when it is back'),
    );
    await listener.ready();
    app.addHook('onClose', () => listener.close());
    app.decorate('ptitspasLive', { hub, listener });
    app.metrics.gauge(
      'ptitspas_live_sockets',
      'PtitsPas live notification sockets open on this instance',
      () => hub.size,
    );
  },
  { name: 'ptitspas-live', dependencies: ['db'] },
);
