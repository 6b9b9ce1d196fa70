import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Drain: stop listening, finish in-flight requests, close pools, stop the embedded database. */
  graceful(): Promise<void>;
  /** Last resort, bounded: stop the embedded database at once. */
  force(): Promise<void>;
  /** How long draining may take before it is forced. */
  graceMs?: number;
  /**
   * A second signal this soon after the first is the same stop: one Ctrl-C reaches the server
   * twice under `npm start` (the terminal's SIGINT, then npm relaying it), and
   * `kill -TERM -- -PGID` likewise. Later, a second signal means "stop now".
   */
  repeatWindowMs?: number;
  exit?: (code: number) => void;
}

// Not close-with-grace 2.5: its second signal exits at once (seen: SIGINT twice 30 ms apart cut a
// 1 s drain, exit 1), and its timeout and second-signal hooks are synchronous, so they cannot stop
// the embedded PostgreSQL before exiting (scripts/bench-libraries.ts grace).
/**
 * SIGINT and SIGTERM drain gracefully, always. A deliberate second signal or the grace timeout
 * forces the exit, and even then the embedded PostgreSQL is stopped rather than left running.
 */
export function handleShutdown({
  logger,
  graceful,
  force,
  // A loaded 2-core machine took 15 s to finish an upload, close the pools and stop its
  // PostgreSQL (tests/server-signals.test.ts beside two busy processes); 30 s is also what a
  // container orchestrator usually waits before killing.
  graceMs = 30_000,
  repeatWindowMs = 1_000,
  exit = (code) => process.exit(code),
}: ShutdownOptions): void {
  let stoppingSince: number | undefined;
  let forcing = false;

  const forceExit = async (reason: string) => {
    if (forcing) return;
    forcing = true;
    logger.warn({ reason }, 'forcing the exit');
    await Promise.race([force(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]).catch((err) =>
      logger.error({ err }, 'could not stop the database'),
    );
    exit(1);
  };

  const stop = async (reason: Record<string, unknown>, code: number) => {
    stoppingSince = Date.now();
    logger.info(reason, 'shutting down');
    const timer = setTimeout(() => void forceExit(`still draining after ${graceMs} ms`), graceMs);
    try {
      await graceful();
      clearTimeout(timer);
      logger.info('stopped');
      exit(code);
    } catch (err) {
      clearTimeout(timer);
      logger.error({ err }, 'graceful shutdown failed');
      await forceExit('graceful shutdown failed');
    }
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince === undefined) return void stop({ signal }, 0);
    if (Date.now() - stoppingSince < repeatWindowMs) {
      logger.debug({ signal }, 'repeated signal: already shutting down');
      return;
    }
    void forceExit(`second ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const onCrash = (err: unknown) => {
    logger.fatal({ err }, 'unexpected error');
    if (stoppingSince === undefined) void stop({ reason: 'unexpected error' }, 1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
}
