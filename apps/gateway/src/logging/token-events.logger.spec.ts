import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import pino from 'pino';
import { InMemoryTokenStore, OAuthProviderError } from '@oauth-gateway/oauth-providers';
import { FakeClock } from '../../../../libs/oauth-providers/test-support/fake-clock.js';
import { rejected, ScriptedStrategy, unavailable } from '../../../../libs/oauth-providers/test-support/scripted-strategy.js';
import { createTokenService } from '../../../../libs/oauth-providers/test-support/token-service.js';
import { TokenEventsLogger } from './token-events.logger.js';

/** A TokenService with the logger listening, its lines parsed as they are written. */
function setup(strategy: ScriptedStrategy) {
  const clock = new FakeClock();
  const tokens = createTokenService(
    [strategy],
    { clock, retry: { maxAttempts: 1 }, rejectedCooldownSeconds: 30, circuitBreaker: { failureThreshold: 2, openMs: 5000 } },
    new InMemoryTokenStore({ now: () => clock.now() }),
  );
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
      done();
    },
  });
  const logger = new TokenEventsLogger(tokens, pino({ level: 'debug' }, destination));
  logger.onModuleInit();
  return { tokens, lines, logger, clock };
}

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  jest.restoreAllMocks();
});

describe('TokenEventsLogger', () => {
  it('writes token obtained, then token renewed, one line each', async () => {
    const { tokens, lines, logger } = setup(new ScriptedStrategy());
    stop = () => logger.onModuleDestroy();
    await tokens.getToken('acme');
    await tokens.getToken('acme', { forceRefresh: true });
    expect(lines.map((l) => l.msg)).toEqual(['token obtained', 'token renewed']);
    expect(lines[1]).toMatchObject({
      level: 30,
      provider: 'acme',
      source: 'provider',
      grant: 'primary',
      trigger: 'request',
      expiresAt: expect.stringMatching(/^\d{4}-/),
    });
  });

  it('writes one line for a rejection, which says the cool-down started and until when', async () => {
    const { tokens, lines, logger, clock } = setup(new ScriptedStrategy().answers(rejected('acme')));
    stop = () => logger.onModuleDestroy();
    const status = jest.spyOn(tokens, 'status');
    await expect(tokens.getToken('acme')).rejects.toBeInstanceOf(OAuthProviderError);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'token cooling down',
        provider: 'acme',
        kind: 'rejected',
        status: 401,
        code: 'invalid_client',
        description: 'Client authentication failed',
        until: new Date(clock.now() + 30_000).toISOString(),
      }),
    ]);
    expect(status).not.toHaveBeenCalled(); // what happened comes with the event
  });

  it('writes one line per failure: token request failed, then token circuit open when the failure opens it', async () => {
    const { tokens, lines, logger, clock } = setup(new ScriptedStrategy().answers(unavailable('acme')));
    stop = () => logger.onModuleDestroy();
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' }); // open: answered at once, no event
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'token request failed', kind: 'unavailable', status: 503 }),
      expect.objectContaining({
        level: 40,
        msg: 'token circuit open',
        kind: 'unavailable',
        failures: 2,
        until: new Date(clock.now() + 5000).toISOString(),
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('until');
  });

  it('stops writing once the module is destroyed', async () => {
    const { tokens, lines, logger } = setup(new ScriptedStrategy());
    logger.onModuleDestroy();
    await tokens.getToken('acme');
    expect(lines).toEqual([]);
  });
});
