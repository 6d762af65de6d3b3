import fc from 'fast-check';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotHistogram } from '../../src/observability/hot-histogram.js';

const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/** The same observations into prom-client's Histogram and into HotHistogram, each in its own registry. */
function both(observations: Array<[string, number]>) {
  const reference = new Registry();
  const theirs = new Histogram({
    name: 'h_seconds',
    help: 'help text',
    labelNames: ['provider'],
    buckets: BUCKETS,
    registers: [reference],
  });
  const hot = new Registry();
  const ours = new HotHistogram('h_seconds', 'help text', 'provider', BUCKETS, hot);
  for (const [provider, value] of observations) {
    theirs.labels(provider).observe(value);
    ours.labels(provider).observe(value);
  }
  return { reference, hot, ours };
}

/** prom-client's JSON carries `exemplar: null` on each value; exemplars are not used here. */
function withoutExemplars(metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) {
  return metrics.map((m) => ({ ...m, values: m.values.map(({ exemplar: _e, ...v }: Record<string, unknown>) => v) }));
}

const observations = fc.array(
  fc.tuple(
    fc.constantFrom('openai', 'anthropic', 'google'),
    // bucket bounds exactly, values between, above every bound, and zero
    fc.oneof(fc.constantFrom(...BUCKETS, 0, 0.2, 7), fc.double({ min: 0, max: 0.2, noNaN: true })),
  ),
  { maxLength: 60 },
);

describe('HotHistogram serves what prom-client Histogram would', () => {
  it('gives the same Prometheus text and JSON for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(observations, async (obs) => {
        const { reference, hot } = both(obs);
        expect(await hot.metrics()).toBe(await reference.metrics());
        expect(await hot.getMetricsAsJSON()).toEqual(withoutExemplars(await reference.getMetricsAsJSON()));
      }),
      { numRuns: 100 },
    );
  });

  it('sums across cluster workers like prom-client does (AggregatorRegistry)', async () => {
    const a = both([
      ['openai', 0.0003],
      ['openai', 0.02],
    ]);
    const b = both([
      ['openai', 0.0003],
      ['google', 3],
    ]);
    const ours = AggregatorRegistry.aggregate([await a.hot.getMetricsAsJSON(), await b.hot.getMetricsAsJSON()]);
    const theirs = AggregatorRegistry.aggregate([await a.reference.getMetricsAsJSON(), await b.reference.getMetricsAsJSON()]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toMatch(/^h_seconds_count\{provider="openai"\} 3$/m);
  });

  it('ignores a value that is not a finite number instead of throwing', async () => {
    const { hot, ours } = both([['openai', 0.001]]);
    ours.labels('openai').observe(Number.NaN);
    ours.labels('openai').observe(Number.POSITIVE_INFINITY);
    expect(await hot.metrics()).toMatch(/^h_seconds_count\{provider="openai"\} 1$/m);
  });

  it('resets as prom-client does: series gone until observed again, kept children still count', async () => {
    const { reference, hot, ours } = both([
      ['openai', 0.001],
      ['google', 0.02],
    ]);
    const kept = ours.labels('openai');
    reference.resetMetrics();
    hot.resetMetrics();
    expect(await hot.metrics()).toBe(await reference.metrics());
    kept.observe(0.003);
    (reference.getSingleMetric('h_seconds') as Histogram).labels('openai').observe(0.003);
    expect(await hot.metrics()).toBe(await reference.metrics());
  });
});
