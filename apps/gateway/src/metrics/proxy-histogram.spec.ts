import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { ProxyHistogram } from './proxy-histogram.js';

const BUCKETS = [0.0001, 0.001, 0.01, 0.1, 1, 10];

/** The samples of an exposition text, labels sorted: `name{a="1",b="2"}` → value. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = (match[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    map.set(`${match[1]}{${[...labels].sort().join(',')}}`, Number(match[3]));
  }
  return map;
}

describe('ProxyHistogram', () => {
  it("renders the same samples as prom-client's Histogram for the same observations", async () => {
    const observation = fc.record({
      series: fc.integer({ min: 0, max: 2 }),
      // Bounds themselves included: a value equal to a bound belongs to that bucket.
      value: fc.oneof(fc.constantFrom(...BUCKETS, 0, 20), fc.double({ min: 0, max: 30, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const labelSets = [
          { provider: 'prio', method: 'GET', status_class: '2xx' },
          { provider: '-', method: 'POST', status_class: '4xx' },
          { provider: 'a"b\\c', method: 'GET', status_class: '5xx' },
        ];
        const registry = new Registry();
        const reference = new Histogram({
          name: 'h',
          help: 'help',
          labelNames: ['provider', 'method', 'status_class'],
          buckets: BUCKETS,
          registers: [registry],
        });
        const ours = new ProxyHistogram<'provider' | 'method' | 'status_class'>('h', 'help', BUCKETS);
        const series = labelSets.map((labels) => ours.seriesFor(labels));
        for (const { series: i, value } of observations) {
          reference.observe(labelSets[i], value);
          series[i].observe(value);
        }
        const expected = samples(await registry.metrics());
        const actual = samples(ours.render());
        expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [key, value] of expected) expect(actual.get(key)).toBeCloseTo(value, 9);
      }),
    );
  });

  it('writes HELP and TYPE lines, and the cumulative buckets of a series in order', () => {
    const h = new ProxyHistogram<'provider'>('gateway_x_seconds', 'Time of x', [0.1, 1]);
    const s = h.seriesFor({ provider: 'prio' });
    for (const value of [0.05, 0.1, 0.5, 7]) s.observe(value);
    expect(h.render().split('\n')).toEqual([
      '# HELP gateway_x_seconds Time of x',
      '# TYPE gateway_x_seconds histogram',
      'gateway_x_seconds_bucket{provider="prio",le="0.1"} 2',
      'gateway_x_seconds_bucket{provider="prio",le="1"} 3',
      'gateway_x_seconds_bucket{provider="prio",le="+Inf"} 4',
      'gateway_x_seconds_sum{provider="prio"} 7.65',
      'gateway_x_seconds_count{provider="prio"} 4',
    ]);
  });

  it('leaves out a series nothing was observed in', () => {
    const h = new ProxyHistogram<'provider'>('gateway_x_seconds', 'Time of x', [1]);
    h.seriesFor({ provider: 'prio' });
    expect(h.render()).toBe('# HELP gateway_x_seconds Time of x\n# TYPE gateway_x_seconds histogram');
  });
});
