import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { TokenGrant } from '../interfaces/access-token.interface.js';
import { ScriptedStrategy } from '../../test-support/scripted-strategy.js';
import { providerErrorOf } from '../../test-support/strategy-context.js';
import { createTokenService } from '../../test-support/token-service.js';

/** A service whose one provider answers `grant`, failures kept quiet and the circuit out of the way. */
function serviceAnswering(grant: TokenGrant, maxTokenBytes?: number) {
  const strategy = new ScriptedStrategy().answers(grant);
  const tokens = createTokenService([strategy], { maxTokenBytes, circuitBreaker: { failureThreshold: 1000 }, retry: { maxAttempts: 1 } });
  tokens.events.on('failed', () => undefined);
  return tokens;
}

/** Strings a header value cannot carry unchanged: at least one CR, LF, NUL, space, DEL, Latin-1 or wider character. */
const unsafe = fc
  .tuple(
    fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
    fc.oneof(
      fc.constantFrom('\r', '\n', '\0', ' ', '\t', '\x7f', '\r\nx-injected: 1'),
      fc.integer({ min: 0x80, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
    ),
    fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
  )
  .map(([before, bad, after]) => `Zq9${before}${bad}${after}`);

async function expectRefused(grant: TokenGrant, field: string, value: string, maxTokenBytes?: number): Promise<void> {
  const tokens = serviceAnswering(grant, maxTokenBytes);
  const error = await providerErrorOf(tokens.getToken('acme'));
  expect(error.kind).toBe('invalid_response');
  expect(error.description).toContain(field);
  expect(error.message).not.toContain(value);
  expect(tokens.lifetime('acme')).toBeUndefined();
  expect(tokens.status()[0]).toMatchObject({ state: 'failing', lastError: { kind: 'invalid_response' } });
}

describe('a token is checked before it is cached', () => {
  it('never caches nor returns an access_token with a character outside visible ASCII', async () => {
    await fc.assert(
      fc.asyncProperty(unsafe, async (accessToken) => expectRefused({ accessToken, expiresIn: 3600 }, 'access_token', accessToken)),
      { numRuns: 200 },
    );
  });

  it('never caches a token whose token_type holds such a character', async () => {
    await fc.assert(
      fc.asyncProperty(unsafe, async (tokenType) => expectRefused({ accessToken: 'fine-token', tokenType }, 'token_type', tokenType)),
      { numRuns: 100 },
    );
  });

  it('refuses an empty access_token or token_type', async () => {
    await expectRefused({ accessToken: '' }, 'access_token', '\0');
    await expectRefused({ accessToken: 'fine-token', tokenType: '' }, 'token_type', '\0');
  });

  it('refuses a token over maxTokenBytes and keeps one of exactly that size', async () => {
    await expectRefused({ accessToken: 'a'.repeat(65) }, 'access_token', 'a'.repeat(65), 64);
    expect((await serviceAnswering({ accessToken: 'a'.repeat(64) }, 64).getToken('acme')).accessToken).toHaveLength(64);
  });

  it('refuses a token over the default cap of 16384 bytes', async () => {
    await expectRefused({ accessToken: 'a'.repeat(16_385) }, 'access_token', 'a'.repeat(16_385));
  });

  it('caches any non-empty visible ASCII token and token_type', async () => {
    const visible = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);
    await fc.assert(
      fc.asyncProperty(visible, visible, async (accessToken, tokenType) => {
        const token = await serviceAnswering({ accessToken, tokenType }).getToken('acme');
        expect(token.accessToken).toBe(accessToken);
      }),
      { numRuns: 100 },
    );
  });
});
