import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestDurations } from '../../plugins/request-durations.js';

describe('RequestDurations', () => {
  it('counts each observation in the first bucket at or above it, cumulatively, as Prometheus reads it', async () => {
    const durations = new RequestDurations([0.01, 0.1, 1]);
    for (const seconds of [0.005, 0.01, 0.05, 2]) durations.observe('GET', '/a/:id', 200, seconds);
    durations.observe('POST', '/a', 201, 0.5);
    const registry = new Registry();
    registry.registerMetric(durations as never);
    const text = await registry.metrics();
    const lines = text.split('\n').filter((line) => line.includes('route="/a/:id"'));
    expect(lines).toEqual([
      'http_request_duration_seconds_bucket{le="0.01",method="GET",route="/a/:id",status="200"} 2',
      'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/a/:id",status="200"} 3',
      'http_request_duration_seconds_bucket{le="1",method="GET",route="/a/:id",status="200"} 3',
      'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a/:id",status="200"} 4',
      'http_request_duration_seconds_sum{method="GET",route="/a/:id",status="200"} 2.065',
      'http_request_duration_seconds_count{method="GET",route="/a/:id",status="200"} 4',
    ]);
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('http_request_duration_seconds_count{method="POST",route="/a",status="201"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('_count{');
  });
});
