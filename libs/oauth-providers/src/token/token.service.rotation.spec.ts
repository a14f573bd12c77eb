import { describe, expect, it } from '@jest/globals';
import { resolveOptions } from '../oauth.options.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import { credentialsFingerprint } from '../strategies/strategy-options.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { rejected, ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';
import { noHttp } from '../../test-support/token-service.js';
import { TokenEndpointBreaker } from './token-endpoint.breaker.js';
import { TokenService } from './token.service.js';

/** A provider that refuses every secret but `good`, whose secret the test rotates. */
class RotatingSecretStrategy extends ScriptedStrategy {
  secret = 'old';
  fingerprints = 0;

  constructor() {
    super('acme');
    this.answers(() => {
      if (this.secret !== 'good') throw rejected('acme');
      return { accessToken: `tok-${this.calls.length}`, expiresIn: 3600 };
    });
  }

  credentialsFingerprint(): Promise<string> {
    this.fingerprints++;
    return credentialsFingerprint([() => this.secret]);
  }
}

function setup(strategy = new RotatingSecretStrategy()) {
  const clock = new FakeClock();
  const options = resolveOptions({ providers: [], clock, rejectedCooldownSeconds: 30, minRequestIntervalMs: 0 });
  const service = new TokenService(options, new InMemoryTokenStore({ now: () => clock.now() }), noHttp);
  service.register(strategy);
  return { clock, service, strategy };
}

describe('a rejected-credentials cool-down ends when the credentials change', () => {
  it('keeps answering from the cool-down while the refused credentials are still the ones configured', async () => {
    const { service, strategy, clock } = setup();
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    clock.advance(10_000);
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected', retryAfterMs: 20_000 });
    expect(strategy.calls).toHaveLength(1);
    expect(service.status()[0]).toMatchObject({ state: 'cooling_down' });
  });

  it('asks the provider again at once after a rotation, and the cool-down is over', async () => {
    const { service, strategy, clock } = setup();
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    clock.advance(1000);
    strategy.secret = 'good';
    expect((await service.getToken('acme')).accessToken).toBe('tok-2');
    expect(service.status()[0].state).not.toBe('cooling_down');
  });

  it('a rotation to another refused secret starts a new cool-down, from the new refusal', async () => {
    const { service, strategy, clock } = setup();
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    clock.advance(5000);
    strategy.secret = 'still-wrong';
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected', retryAfterMs: 30_000 });
    expect(strategy.calls).toHaveLength(2);
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    expect(strategy.calls).toHaveLength(2);
  });

  it('checks the credentials once for a crowd of callers during the cool-down', async () => {
    const { service, strategy } = setup();
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    const before = strategy.fingerprints;
    const crowd = await Promise.allSettled(Array.from({ length: 50 }, () => service.getToken('acme')));
    expect(crowd.every((r) => r.status === 'rejected')).toBe(true);
    expect(strategy.fingerprints - before).toBe(1);
  });

  it('a strategy without a fingerprint (or whose fingerprint throws) keeps the whole cool-down', async () => {
    const strategy = new RotatingSecretStrategy();
    strategy.credentialsFingerprint = () => Promise.reject(new Error('vault down'));
    const { service, clock } = setup(strategy);
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
    strategy.secret = 'good';
    clock.advance(29_000);
    await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected', retryAfterMs: 1000 });
    clock.advance(1000);
    expect((await service.getToken('acme')).accessToken).toBe('tok-2');
  });
});

describe('TokenEndpointBreaker keeps the refused credentials fingerprint', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const breaker = () =>
    new TokenEndpointBreaker({ rejectedCooldownMs: 30_000, circuit: { failureThreshold: 1, openMs: 5000, maxOpenMs: 60_000 } });

  it('for the cool-down it starts, only while it lasts, and ending it lets the endpoint be asked', () => {
    const b = breaker();
    b.callFailed(rejected('acme'), 'fp-1');
    b.renewalFailed(rejected('acme'), T0);
    expect(b.cooldownFingerprint(T0 + 1)).toBe('fp-1');
    expect(b.cooldownFingerprint(T0 + 30_000)).toBeUndefined();
    b.endCooldown();
    expect(b.refusal(T0 + 1)).toBeUndefined();
  });

  it('not for failures that are not rejections: those open the circuit, which a rotation does not close', () => {
    const b = breaker();
    b.callFailed(unavailable('acme'), 'fp-1');
    b.renewalFailed(unavailable('acme'), T0);
    expect(b.cooldownFingerprint(T0 + 1)).toBeUndefined();
    b.endCooldown();
    expect(b.refusal(T0 + 1)).toMatchObject({ kind: 'unavailable' });
  });
});
