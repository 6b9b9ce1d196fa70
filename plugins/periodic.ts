import type { FastifyInstance } from 'fastify';

const HOUR_MS = 3_600_000;

/**
 * Housekeeping that runs once the server is ready and then every hour, in every instance (each
 * run is idempotent, so instances need not agree on who does it). A failure is logged, never thrown.
 * `task` answers how many rows it removed.
 */
export function hourly(app: FastifyInstance, what: string, task: () => Promise<number>): void {
  const run = async () => {
    try {
      const removed = await task();
      if (removed > 0) app.log.info({ removed }, what);
    } catch (err) {
      app.log.warn({ err }, `could not run: ${what}`);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await run();
    timer = setInterval(() => void run(), HOUR_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
