import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Busy } from '../domain/errors.js';

interface LoadSheddingOptions {
  /** Mean event-loop delay (ms) over the last sample past which requests are refused. */
  maxEventLoopDelayMs: number;
  /** How often the delay is sampled (ms). */
  sampleIntervalMs?: number;
}

/** Answered even under pressure: liveness must not fail because the process is busy. */
const ALWAYS_ANSWERED = new Set(['/health']);

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags past the bound, requests
 * are refused at once (503 with Retry-After, in the shape of the API asked) instead of queueing
 * behind the work already late; /ready is refused too, so a balancer steers traffic away. Its
 * onRequest hook compares numbers sampled on a timer: +1 % on a trivial route, within noise
 * (scripts/bench-libraries.ts pressure).
 */
export default fp<LoadSheddingOptions>(
  async (app: FastifyInstance, { maxEventLoopDelayMs, sampleIntervalMs }) => {
    await app.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      sampleInterval: sampleIntervalMs,
      // A rejected promise reaches the route's error handler: each API answers in its own shape.
      pressureHandler: async (request, _reply, type, value) => {
        if (ALWAYS_ANSWERED.has(request.url)) return;
        request.log.warn({ type, value }, 'under pressure: request refused');
        throw new Busy('Le serveur est très sollicité, réessayez dans quelques secondes.', 5);
      },
    });
  },
  { name: 'load-shedding' },
);
