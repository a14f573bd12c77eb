import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
// The class is internal to the package (apps build strategies with prio()); the spy reaches it in the sources.
import { PrioStrategy } from '../../libs/oauth-providers/src/strategies/prio.strategy.js';
import { getAsAdmin as get, problemOf, startHarness, type Harness } from '../support/gateway-harness.js';

describe('a strategy whose code throws (a bug, not the provider answering)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('answers 500 internal_error with no detail, logs the exception, and counts a strategy_error token request', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'expires_in')");
    jest.spyOn(PrioStrategy.prototype, 'requestToken').mockRejectedValue(bug);
    const answer = await get(h, '/prio/products');
    expect(answer.status).toBe(500);
    expect(problemOf(answer)).toEqual({
      type: 'about:blank',
      title: 'Internal error',
      status: 500,
      code: 'internal_error',
      requestId: answer.headers['x-request-id'],
    });
    expect(h.emulators.apiRequests('prio')).toBe(0);
    const failure = h.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'proxy failed');
    expect(JSON.stringify(failure)).toContain("reading 'expires_in'");
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_token_requests_total\{provider="prio",outcome="strategy_error"\} 1$/m);
  });

  it('answers normally again once the strategy stops throwing', async () => {
    const answer = await get(h, '/prio/products');
    expect(answer.status).toBe(200);
  });
});
