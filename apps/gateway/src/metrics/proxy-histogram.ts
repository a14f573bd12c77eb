/**
 * A Prometheus histogram for the proxy's hot path, rendered in the text exposition format next to
 * prom-client's registry: the caller keeps the `HistogramSeries` of a label set (looked up once),
 * so an observation is a bucket search and three additions, where prom-client's
 * `labels(...).observe(v)` validates, hashes and looks up the label set on every call.
 */
export class ProxyHistogram<L extends string> {
  private readonly series: Array<{ labels: string; data: HistogramSeries }> = [];

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  /** A new series for this label set; the caller keeps it (one per label set). */
  seriesFor(labels: Readonly<Record<L, string>>): HistogramSeries {
    const data = new HistogramSeries(this.buckets);
    const text = Object.entries<string>(labels)
      .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
      .join(',');
    this.series.push({ labels: text, data });
    return data;
  }

  /**
   * `# HELP`, `# TYPE`, then per series the cumulative `_bucket`s (`le`, then `+Inf`), `_sum` and
   * `_count`. A series nothing was observed in yet is left out, as prom-client does.
   */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} histogram`];
    for (const { labels, data } of this.series) {
      if (data.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += data.counts[i];
        lines.push(`${this.name}_bucket{${labels},le="${this.buckets[i]}"} ${cumulative}`);
      }
      lines.push(
        `${this.name}_bucket{${labels},le="+Inf"} ${data.count}`,
        `${this.name}_sum{${labels}} ${data.sum}`,
        `${this.name}_count{${labels}} ${data.count}`,
      );
    }
    return lines.join('\n');
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); those above the last bound are only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Exposition format: backslash, double quote and line feed escaped in label values. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
