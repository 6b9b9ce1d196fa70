/** The series of one method, route pattern and status. */
interface Series {
  labels: { method: string; route: string; status: string };
  /** Observations per bucket (not cumulative), the last one past the largest bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * `http_request_duration_seconds`, a Prometheus histogram by method, route pattern and status,
 * registered in a prom-client registry as a metric of our own. prom-client's Histogram checked
 * and hashed the labels of every observation, 3% of the CPU of a request answered from the
 * session cache (docs/benchmarks.md); here an observation is one Map lookup. The series are as
 * many as routes × methods × statuses: bounded by the route table (unknown paths are one route).
 */
export class RequestDurations {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'Requests by method, route pattern and status, and their duration (its _count is the request count)';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(private readonly bounds: readonly number[]) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        labels: { method, route, status: String(status) },
        counts: this.bounds.map(() => 0).concat(0),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += seconds;
    series.count++;
  }

  /** What prom-client's registry reads at a scrape: the same samples its Histogram gives. */
  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, bucket) => {
        cumulative += counts[bucket]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}
