import fp from 'fastify-plugin';
import { createStorage, type Storage, type StorageSettings } from '../adapters/storage/index.js';
import { checkStorage, fixStorage } from '../domain/shared/storage-check.js';
import { HOUR_MS } from './jobs.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where uploaded bytes live, for both APIs; which backend runs is configuration. */
    storage: Storage;
  }
}

export const ORPHANS_JOB = 'orphan stored objects removed';

export default fp<{ settings: StorageSettings }>(
  async (app, { settings }) => {
    const storage = await createStorage(settings, (removed) =>
      app.log.info({ removed }, 'removed uploads left unfinished by a stopped process'),
    );
    app.decorate('storage', storage);
    // After every request has drained: no write is in progress by then.
    app.addHook('onClose', () => storage.close());

    // Daily, once per cluster: objects no row references (a crash between an object and its
    // row, a write a killed process left) are removed once an hour old, as `storage:check --fix`
    // does. The cross-organization handle reads every organization's rows (SELECT only); rows
    // whose object is gone are reported, never changed.
    app.jobs.every(
      ORPHANS_JOB,
      24 * HOUR_MS,
      async () => {
        const report = await checkStorage(app.crossOrganizationDb, storage, {
          olderThan: new Date(Date.now() - HOUR_MS),
        });
        if (report.missingObjects.length > 0) {
          app.log.error(
            { count: report.missingObjects.length, first: report.missingObjects.slice(0, 10) },
            'rows point at stored objects that are gone: see npm run cli -- storage:check',
          );
        }
        const fixed = await fixStorage(app.crossOrganizationDb, storage, report);
        if (fixed.failed.length > 0) {
          throw new Error(`${fixed.failed.length} orphan objects not removed, first: ${fixed.failed[0]!.error}`);
        }
        return fixed.removed.length;
      },
      { leaseMs: 6 * HOUR_MS },
    );
  },
  { name: 'storage', dependencies: ['db', 'jobs'] },
);
