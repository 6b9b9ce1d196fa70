import type { Instance } from './services.js';

/** One HTTP request of the test, and the status it must get. */
export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  /** How the request is counted in the report (the route, not the ids). */
  route: string;
  expect: number;
  token?: string;
  json?: unknown;
  form?: FormData;
  /** The client's address, as a load balancer would name it (X-Forwarded-For). */
  address?: string;
}

export interface Answer {
  status: number;
  /** The body parsed as JSON, when it is JSON. */
  body: unknown;
  bytes: Buffer;
  /** The status is the expected one. */
  ok: boolean;
}

export interface Failure {
  instance: string;
  method: string;
  path: string;
  status: number;
  expected: number;
  body: string;
}

/** A property checked during the workload (a read after a write, a replay, a file's bytes). */
interface Tally {
  passed: number;
  failed: number;
  examples: string[];
}

/**
 * Sends the test's requests to the instances and keeps what the report needs: count and
 * latencies per instance and per route, every unexpected status with its body, and the
 * properties checked along the way.
 */
export class Traffic {
  readonly failures: Failure[] = [];
  readonly latencies: number[][];
  readonly routes = new Map<string, number>();
  readonly tallies = new Map<string, Tally>();
  readonly statuses5xx: Failure[] = [];

  constructor(readonly instances: readonly Instance[]) {
    this.latencies = instances.map(() => []);
  }

  async send(side: number, call: Call): Promise<Answer> {
    const instance = this.instances[side % this.instances.length]!;
    const started = performance.now();
    let status = 0;
    let bytes = Buffer.alloc(0);
    let type = '';
    try {
      const res = await fetch(`${instance.url}${call.path}`, {
        method: call.method,
        headers: headersOf(call),
        body: call.form ?? (call.json === undefined ? undefined : JSON.stringify(call.json)),
      });
      status = res.status;
      type = res.headers.get('content-type') ?? '';
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      bytes = Buffer.from(`network error: ${(err as Error).message}`);
    }
    this.latencies[side % this.instances.length]!.push(performance.now() - started);
    this.routes.set(call.route, (this.routes.get(call.route) ?? 0) + 1);
    const body = type.includes('json') ? parse(bytes) : undefined;
    const ok = status === call.expect;
    if (!ok) {
      const failure = {
        instance: instance.name,
        method: call.method,
        path: call.path,
        status,
        expected: call.expect,
        body: bytes.toString('utf8', 0, 300),
      };
      this.failures.push(failure);
      if (status >= 500) this.statuses5xx.push(failure);
    }
    return { status, body, bytes, ok };
  }

  /** Records one check of `property`; `detail` says what went wrong when it failed. */
  tally(property: string, passed: boolean, detail = ''): void {
    let tally = this.tallies.get(property);
    if (!tally) {
      tally = { passed: 0, failed: 0, examples: [] };
      this.tallies.set(property, tally);
    }
    if (passed) tally.passed++;
    else {
      tally.failed++;
      if (tally.examples.length < 3) tally.examples.push(detail);
    }
  }

  get requestCount(): number {
    return this.latencies.reduce((n, list) => n + list.length, 0);
  }
}

function headersOf(call: Call): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.json !== undefined) headers['content-type'] = 'application/json';
  if (call.address) headers['x-forwarded-for'] = call.address;
  return headers;
}

function parse(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
