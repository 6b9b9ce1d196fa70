/**
 * Preloaded into a server the bench starts (`node --expose-gc --import ./scripts/bench-probe.ts`,
 * Node 24 strips the types): on SIGUSR2 it writes to BENCH_PROBE_FILE the event loop delay since
 * the previous signal (p50, p99, max in ms), then the memory after a full collection, and starts a
 * new delay window. Nothing of it is in the server's own code.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const gc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  const loop = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
  gc?.();
  gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  writeFileSync(process.env.BENCH_PROBE_FILE!, JSON.stringify({ loop, rss, heapUsed, external }));
  delay.reset();
});
