import fp from 'fastify-plugin';
import { createStorage, type Storage, type StorageSettings } from '../adapters/storage/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where uploaded bytes live, for both APIs; which backend runs is configuration. */
    storage: Storage;
  }
}

export default fp<{ settings: StorageSettings }>(
  async (app, { settings }) => {
    const storage = await createStorage(settings, (removed) =>
      app.log.info({ removed }, 'removed uploads left unfinished by a stopped process'),
    );
    app.decorate('storage', storage);
    // After every request has drained: no write is in progress by then.
    app.addHook('onClose', () => storage.close());
  },
  { name: 'storage' },
);
