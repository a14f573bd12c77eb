import { expect, it } from '@jest/globals';
import type { EmulatedEndpoint, ProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { TokenStrategy } from '../src/interfaces/token-strategy.interface.js';
import { strategyContext, providerErrorOf } from './strategy-context.js';

/**
 * The answers no token endpoint should give but some do, each served for real by the emulator:
 * whatever the provider, they end as an `OAuthProviderError` of the right kind.
 */
export function itTurnsHostileAnswersIntoProviderErrors(
  setup: () => { emu: ProviderEmulators; endpoint: EmulatedEndpoint; strategy: TokenStrategy },
  /** A success body of this provider, minus the access_token. */
  successWithoutToken: object,
): void {
  const failWith = async (body: string, contentType: string, status = 200) => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'garbage', status, contentType, body, times: 1 });
    return providerErrorOf(strategy.requestToken(strategyContext()));
  };

  it('turns a 200 with an HTML page into invalid_response', async () => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'garbage', times: 1 });
    const error = await providerErrorOf(strategy.requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'invalid_response', status: 200, provider: strategy.name });
    expect(error.description).toMatch(/HTML/);
  });

  it('turns truncated JSON into invalid_response', async () => {
    expect(await failWith('{"access_token":"abc","expires_in":36', 'application/json')).toMatchObject({
      kind: 'invalid_response',
      status: 200,
    });
  });

  it('turns a JSON array or a bare string into invalid_response', async () => {
    expect((await failWith('["access_token"]', 'application/json')).kind).toBe('invalid_response');
    expect((await failWith('"token"', 'application/json')).kind).toBe('invalid_response');
  });

  it('turns an answer without access_token into invalid_response', async () => {
    const error = await failWith(JSON.stringify(successWithoutToken), 'application/json');
    expect(error).toMatchObject({ kind: 'invalid_response', description: 'the answer holds no access_token' });
  });

  it('turns an empty 200 into invalid_response', async () => {
    expect((await failWith('', 'application/json')).kind).toBe('invalid_response');
  });

  it('turns a 502 HTML page from a load balancer into unavailable', async () => {
    const error = await failWith('<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html', 502);
    expect(error).toMatchObject({ kind: 'unavailable', status: 502 });
  });

  it("turns the provider's own 503 into unavailable", async () => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'status', status: 503, times: 1 });
    expect(await providerErrorOf(strategy.requestToken(strategyContext()))).toMatchObject({ kind: 'unavailable', status: 503 });
  });

  it('turns a 429 into unavailable honouring Retry-After', async () => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'rate_limit', retryAfterSeconds: 7, times: 1 });
    expect(await providerErrorOf(strategy.requestToken(strategyContext()))).toMatchObject({
      kind: 'unavailable',
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it('turns a WAF "Access Denied" page into unavailable with its Reference #', async () => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'waf', times: 1 });
    const error = await providerErrorOf(strategy.requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'unavailable', status: 403, code: 'waf_blocked' });
    expect(error.description).toMatch(/Reference #18\.[0-9a-f]+\.\d+\.[0-9a-f]+/);
  });

  it('reports a token endpoint that never answers as unavailable (timeout)', async () => {
    const { emu, endpoint, strategy } = setup();
    emu.failTokenEndpoint(endpoint, { kind: 'hang', times: 1 });
    expect(await providerErrorOf(strategy.requestToken(strategyContext(150)))).toMatchObject({ kind: 'unavailable', code: 'timeout' });
  });
}
