import { describe, expect, it } from '@jest/globals';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { drawWord, ratioBound, traceIdDrawn } from './ratio-root.js';

const randoms = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 3, maxLength: 3 });
const from = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe('a new trace decided by its draw before it has an id', () => {
  it("picks exactly what OpenTelemetry's trace-id ratio sampler picks, for any ratio, draw and id", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.01, 0.5, 1)),
        fc.nat({ max: 0xffffffff }),
        randoms,
        (ratio, drawn, words) => {
          const id = traceIdDrawn(drawn, from(words));
          expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
          const sdk = new TraceIdRatioBasedSampler(ratio).shouldSample(ROOT_CONTEXT, id);
          expect(sdk.decision === SamplingDecision.RECORD_AND_SAMPLED).toBe(drawn < ratioBound(ratio));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('draws words over the whole 32-bit range, and builds no all-zero id from zero words', () => {
    expect([drawWord(() => 0), drawWord(() => 0.5), drawWord(() => 1 - 2 ** -53)]).toEqual([0, 0x80000000, 0xffffffff]);
    expect(traceIdDrawn(0, () => 0)).toBe('00000000000000000000000100000001');
    expect([ratioBound(0), ratioBound(1), ratioBound(2), ratioBound(-1), ratioBound(Number.NaN)]).toEqual([
      0, 0x100000000, 0x100000000, 0, 0,
    ]);
  });
});
