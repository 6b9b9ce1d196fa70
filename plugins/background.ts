import fp from 'fastify-plugin';
import { Busy } from '../domain/errors.js';

interface Background {
  /**
   * Runs `task` without making the caller wait: failures are logged under `label`, and shutdown
   * waits for what is still running. Past `maxPending` tasks the call is refused (503) rather
   * than letting work pile up behind the answers already sent.
   */
  run(label: string, task: () => Promise<void>): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    background: Background;
  }
}

// Not p-limit: it queues past its limit where this refuses (503), and per task it costs the same as
// the hand-written queue (scripts/bench-libraries.ts limit); a Set is all the bound needs.
export default fp<{ maxPending: number }>(
  async (app, { maxPending }) => {
    const pending = new Set<Promise<void>>();
    app.decorate('background', {
      run(label, task) {
        if (pending.size >= maxPending) {
          throw new Busy('Le serveur est très sollicité, réessayez dans quelques secondes.', 5);
        }
        const running = Promise.resolve()
          .then(task)
          .catch((err: unknown) => app.log.error({ err, task: label }, 'background task failed'))
          .finally(() => pending.delete(running));
        pending.add(running);
      },
    });
    // onClose hooks run in reverse order of registration: registered after the database and the
    // mailer, this waits for the tasks before those close.
    app.addHook('onClose', async () => {
      await Promise.all(pending);
    });
  },
  { name: 'background' },
);
