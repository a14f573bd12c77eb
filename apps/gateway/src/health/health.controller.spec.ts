import { describe, expect, it } from '@jest/globals';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { ProviderTokenStatus, TokenService } from '@oauth-gateway/oauth-providers';
import { DRAINING_CHECK, ProcessHealth } from './process.health.js';
import { ProviderTokensHealth } from './provider-tokens.health.js';
import { ShutdownState } from '../shutdown/shutdown-state.js';

const T = Date.UTC(2026, 0, 1);

function status(state: ProviderTokenStatus['state'], extra: Partial<ProviderTokenStatus> = {}): ProviderTokenStatus {
  return {
    provider: 'prio',
    state,
    valid: state === 'valid',
    renewing: false,
    hasRefreshToken: false,
    store: { shared: false, degraded: false },
    ...extra,
  };
}

function providerHealth(warmOnStart: boolean, store = { shared: true, degraded: false }): ProviderTokensHealth {
  const tokens = { storeStatus: () => store } as unknown as TokenService;
  return new ProviderTokensHealth(tokens, new HealthIndicatorService(), { tokens: { warmOnStart } });
}

describe('ProviderTokensHealth', () => {
  it('is ready for a provider holding a valid token, and not for one failing, renewing without a token or cooling down', () => {
    const health = providerHealth(true);
    expect(health.isReady(status('valid'))).toBe(true);
    for (const state of ['failing', 'renewing', 'cooling_down', 'circuit_open', 'empty', 'expired'] as const) {
      expect(health.isReady(status(state))).toBe(false);
    }
  });

  it('fetching on first use, is ready for a provider not needed yet or not lately, unless its last attempt failed', () => {
    const health = providerHealth(false);
    expect(health.isReady(status('empty'))).toBe(true);
    expect(health.isReady(status('expired'))).toBe(true);
    expect(health.isReady(status('empty', { lastError: { kind: 'unavailable', at: T } }))).toBe(false);
    expect(health.isReady(status('failing'))).toBe(false);
  });

  it('reports each provider up or down under its name, with its state and times in ISO 8601, never a token', () => {
    const health = providerHealth(true);
    const [up, down] = health.providerChecks([
      status('valid', { expiresAt: T }),
      status('cooling_down', {
        provider: 'latam',
        cooldownUntil: T + 30_000,
        lastError: { kind: 'rejected', status: 401, description: 'bad client', at: T },
      }),
    ]);
    expect(up()).toEqual({ prio: { status: 'up', state: 'valid', expiresAt: '2026-01-01T00:00:00.000Z' } });
    expect(down()).toEqual({
      latam: {
        status: 'down',
        state: 'cooling_down',
        cooldownUntil: '2026-01-01T00:00:30.000Z',
        lastError: { kind: 'rejected', status: 401, description: 'bad client', at: '2026-01-01T00:00:00.000Z' },
      },
    });
  });

  it('reports an unreachable token store as degraded, which Terminus does not count as down', () => {
    expect(providerHealth(true).store()).toEqual({ tokenStore: { status: 'up', shared: true } });
    expect(providerHealth(true, { shared: true, degraded: true }).store()).toEqual({
      tokenStore: { status: 'degraded', shared: true, message: 'unreachable: instances work from local copies' },
    });
  });
});

describe('ProcessHealth', () => {
  it('is always serving, whatever the providers and the store do', () => {
    expect(new ProcessHealth(new HealthIndicatorService(), new ShutdownState()).serving()).toEqual({ process: { status: 'up' } });
  });

  it('turns the drain check down once a graceful shutdown began', () => {
    const shutdown = new ShutdownState();
    const health = new ProcessHealth(new HealthIndicatorService(), shutdown);
    expect(health.draining()).toEqual({ [DRAINING_CHECK]: { status: 'up' } });
    shutdown.begin();
    expect(health.draining()).toEqual({ [DRAINING_CHECK]: { status: 'down' } });
  });
});
