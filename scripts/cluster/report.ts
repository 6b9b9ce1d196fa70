import type { Assertion } from './checks.js';
import type { Traffic } from './traffic.js';

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : Number.NaN;

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '–');

/** Requests, requests per second and latency of the workload, per instance and in total. */
export function throughputLines(traffic: Traffic, elapsedMs: number): string[] {
  const seconds = elapsedMs / 1000;
  const row = (name: string, latencies: number[]) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return `  ${name.padEnd(6)} ${String(latencies.length).padStart(7)} requests  ${(latencies.length / seconds).toFixed(1).padStart(7)} req/s  p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}`;
  };
  return [
    `Workload: ${seconds.toFixed(1)} s`,
    ...traffic.instances.map((instance, i) => row(instance.name, traffic.latencies[i]!)),
    row('total', traffic.latencies.flat()),
  ];
}

export function routeLines(traffic: Traffic): string[] {
  return [...traffic.routes]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, n]) => `  ${String(n).padStart(6)}  ${route}`);
}

export function assertionLines(assertions: Assertion[]): string[] {
  return assertions.flatMap((a, i) => [
    `(${i + 1}) ${a.passed ? 'PASS' : 'FAIL'}  ${a.name}`,
    ...a.details.map((d) => `        ${d}`),
  ]);
}
