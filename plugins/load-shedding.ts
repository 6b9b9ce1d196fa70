import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Busy } from '../domain/errors.js';

interface LoadSheddingOptions {
  /** Mean event-loop delay (ms) over the last sample past which requests are refused; undefined: never. */
  maxEventLoopDelayMs: number | undefined;
  /** How often the delay is sampled (ms). */
  sampleIntervalMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** True while requests are being refused for event-loop lag. */
    shedsLoad(): boolean;
  }
}

/**
 * Answered even under pressure: liveness must not fail because the process is busy, and /ready
 * says it is overloaded in its own shape (routes/health.ts).
 */
const ALWAYS_ANSWERED = new Set(['/health', '/ready']);

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags past the bound, requests
 * are refused at once (503 with Retry-After, in the shape of the API asked) instead of queueing
 * behind the work already late; /ready answers 503 too, so a balancer steers traffic away. Its
 * onRequest hook compares numbers sampled on a timer: +1 % on a trivial route, within noise
 * (scripts/bench-libraries.ts pressure).
 */
export default fp<LoadSheddingOptions>(
  async (app: FastifyInstance, { maxEventLoopDelayMs, sampleIntervalMs = 1_000 }) => {
    if (maxEventLoopDelayMs === undefined) {
      app.decorate('shedsLoad', () => false);
      return;
    }
    // Compiling every route's schemas blocks the loop while the server starts; the samples that
    // cover those seconds say nothing about load, so pressure counts from two samples after ready.
    let countsFrom = Number.POSITIVE_INFINITY;
    app.addHook('onReady', async () => {
      countsFrom = Date.now() + 2 * sampleIntervalMs;
    });
    app.decorate('shedsLoad', () => Date.now() >= countsFrom && app.isUnderPressure());

    await app.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      sampleInterval: sampleIntervalMs,
      // A rejected promise reaches the route's error handler: each API answers in its own shape.
      pressureHandler: async (request, _reply, type, value) => {
        if (ALWAYS_ANSWERED.has(request.url) || Date.now() < countsFrom) return;
        request.log.warn({ type, value }, 'under pressure: request refused');
        throw new Busy('Le serveur est très sollicité, réessayez dans quelques secondes.', 5);
      },
    });
  },
  { name: 'load-shedding' },
);
