/**
 * Load generator of `npm run bench`, run as its own process: reads a job list (JSON) from the file
 * named in argv[2], runs the jobs at the same time with autocannon, prints one JSON line of results.
 * Each job cycles through its requests, so every connection uses many tokens and records.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadRequest {
  path: string;
  token?: string;
  body?: unknown;
  /** The client address the server sees (X-Forwarded-For; the bench's server trusts loopback). */
  address?: string;
}

export interface LoadJob {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  connections: number;
  seconds: number;
  requests: LoadRequest[];
  /** Requests per second over all connections, at most (otherwise: as fast as answered). */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
}

function run(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        ...(job.rate ? { overallRate: job.rate } : {}),
        requests: [
          {
            method: job.method,
            setupRequest(request) {
              const item = job.requests[next++ % job.requests.length]!;
              request.path = item.path;
              request.headers = {
                accept: 'application/json',
                ...(item.token ? { authorization: `Bearer ${item.token}` } : {}),
                ...(item.body === undefined ? {} : { 'content-type': 'application/json' }),
                ...(item.address ? { 'x-forwarded-for': item.address } : {}),
              };
              if (item.body !== undefined) request.body = JSON.stringify(item.body);
              return request;
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requests: result.requests.total,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          statuses: Object.fromEntries(
            Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat?.count ?? 0]),
          ),
        });
      },
    );
  });
}

const jobs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadJob[];
const results = await Promise.all(jobs.map(run));
process.stdout.write(`${JSON.stringify(results)}\n`);
