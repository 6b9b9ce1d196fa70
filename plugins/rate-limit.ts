import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, onRequestAsyncHookHandler, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { TooMany } from '../domain/errors.js';

interface LimitOptions {
  max: number;
  timeWindow: string;
  /** Count per client address (public routes), or per what the function names (the authenticated caller). */
  per: 'ip' | ((request: FastifyRequest) => string | number);
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A named limit, as a hook for the routes it covers: routes given the same name share one
     * counter (register, register-owner and register-doctor count together).
     */
    limit(name: string, options: LimitOptions): onRequestAsyncHookHandler | onRequestHookHandler;
    /**
     * A named budget charged from code rather than by a hook: each call spends one unit of `key`,
     * and the call past `max` in the window throws 429 (with `Retry-After`).
     */
    budget(name: string, options: BudgetOptions): (request: FastifyRequest, key: string) => Promise<void>;
    /** The Redis the instances share (REDIS_URL), if any: what GET /ready pings. */
    redis: Redis | undefined;
  }
}

interface BudgetOptions {
  max: number;
  timeWindow: string;
}

const BUDGET_KEY = Symbol('budget key');
type Keyed = FastifyRequest & { [BUDGET_KEY]: string };

const tooManyRequests = (retryAfter: number) =>
  new TooMany(`Trop de requêtes. Réessayez dans ${retryAfter} s.`, retryAfter);

/**
 * Counters in memory, or in Redis when REDIS_URL is set so every instance shares them.
 * RATE_LIMITS=off turns every limit into a no-op.
 */
export default fp<{ enabled: boolean; redisUrl?: string }>(
  async (app, { enabled, redisUrl }) => {
    // ioredis is loaded only for a Redis (idle memory, docs/benchmarks.md).
    const redis = redisUrl
      ? new (await import('ioredis')).Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
      : undefined;
    if (redis) {
      redis.on('error', (err) => app.log.warn({ err }, 'redis unavailable'));
      // Counting starts with the first request: wait for Redis a little, but never refuse to start.
      await Promise.race([once(redis, 'ready').catch(() => {}), sleep(5000, undefined, { ref: false })]);
      app.addHook('onClose', async () => {
        redis.disconnect();
      });
    }
    app.decorate('redis', redis);
    await app.register(rateLimit, { global: false, redis, nameSpace: 'api-rate-limit:', skipOnError: true });

    const limiters = new Map<string, ReturnType<typeof app.createRateLimit>>();
    const off: onRequestHookHandler = (_request, _reply, done) => done();
    app.decorate('limit', (name: string, { max, timeWindow, per }: LimitOptions) => {
      if (!enabled) return off;
      const key = (request: FastifyRequest) => `${name}:${per === 'ip' ? request.ip : `user:${per(request)}`}`;
      let check = limiters.get(name);
      if (!check) {
        check = app.createRateLimit({ max, timeWindow, keyGenerator: key });
        limiters.set(name, check);
      }
      const limiter = check;
      const hook: onRequestAsyncHookHandler = async (request, reply) => {
        const result = await limiter(request);
        if (result.isAllowed) return;
        reply.header('x-ratelimit-limit', result.max);
        reply.header('x-ratelimit-remaining', result.remaining);
        if (result.isExceeded) {
          throw tooManyRequests(result.ttlInSeconds);
        }
      };
      return hook;
    });

    app.decorate('budget', (name: string, { max, timeWindow }: BudgetOptions) => {
      if (!enabled) return async () => {};
      // The limiter reads the key from the request it is given: a view of the request carrying it.
      const spend = app.createRateLimit({ max, timeWindow, keyGenerator: (r) => (r as Keyed)[BUDGET_KEY] });
      return async (request: FastifyRequest, key: string) => {
        const result = await spend(Object.create(request, { [BUDGET_KEY]: { value: `${name}:${key}` } }));
        if (!result.isAllowed && result.isExceeded) throw tooManyRequests(result.ttlInSeconds);
      };
    });
  },
  { name: 'rate-limit' },
);
