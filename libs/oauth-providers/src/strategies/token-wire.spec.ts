import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { EmulatedEndpoint, ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { strategyContext } from '../../test-support/strategy-context.js';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenHttpResponse, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { latamPass } from './latam-pass.strategy.js';
import { oauth2 } from './oauth2.strategy.js';
import { payme } from './payme.strategy.js';
import { prio } from './prio.strategy.js';
import { sabre } from './sabre.strategy.js';
import {
  rawBasicAuthorization,
  failureKind,
  formBody,
  formEncode,
  grantFrom,
  readTokenAnswer,
  rfc6749BasicAuthorization,
  rfc6749ErrorFields,
} from './token-wire.js';
import { transatel } from './transatel.strategy.js';

const decodeBasic = (header: string) => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
const wellFormed = fc.string({ unit: 'grapheme', maxLength: 40 });

/** Bodies a broken or hostile token endpoint might send. */
const hostileBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
  fc
    .record(
      {
        access_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object()),
        token_type: fc.jsonValue(),
        expires_in: fc.jsonValue(),
        scope: fc.jsonValue(),
        refresh_token: fc.jsonValue(),
        error: fc.jsonValue(),
        error_description: fc.jsonValue(),
        errors: fc.jsonValue(),
        success: fc.jsonValue(),
        authorization: fc.oneof(fc.jsonValue(), fc.constant({ meta: { status: { code: '01', message_ilgn: [null, 3, { value: {} }] } } })),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.constantFrom('<html><body>Access Denied Reference #18.1.2.3</body></html>', '', '   ', 'null', '{}', '[]'),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json;charset=UTF-8',
  'text/html',
  'text/plain',
  'application/problem+json',
);

describe('token-wire', () => {
  it('builds raw Basic that decodes to exactly id:secret, whatever the characters', () => {
    fc.assert(
      fc.property(
        wellFormed.filter((id) => !id.includes(':')),
        wellFormed,
        (id, secret) => {
          expect(decodeBasic(rawBasicAuthorization(id, secret))).toBe(`${id}:${secret}`);
        },
      ),
    );
    expect(decodeBasic(rawBasicAuthorization('ocs-subscription', 'a:b%2B+/=='))).toBe('ocs-subscription:a:b%2B+/==');
  });

  it('builds RFC 6749 §2.3.1 Basic: both parts form-urlencoded, so a colon in either survives the split', () => {
    fc.assert(
      fc.property(wellFormed, wellFormed, (id, secret) => {
        const decoded = decodeBasic(rfc6749BasicAuthorization(id, secret));
        const [encodedId, encodedSecret, ...rest] = decoded.split(':');
        expect(rest).toEqual([]);
        expect(new URLSearchParams(`a=${encodedId}&b=${encodedSecret}`).get('a')).toBe(id);
        expect(new URLSearchParams(`a=${encodedId}&b=${encodedSecret}`).get('b')).toBe(secret);
      }),
    );
    expect(formEncode('a b+c/d=e%f~*')).toBe('a+b%2Bc%2Fd%3De%25f%7E*');
  });

  it('leaves undefined fields out of a form body', () => {
    expect(formBody({ grant_type: 'client_credentials', scope: undefined, audience: 'x y' })).toBe(
      'grant_type=client_credentials&audience=x+y',
    );
  });

  it('classifies statuses: 429 and 5xx unavailable, other 4xx rejected, the rest invalid_response', () => {
    expect([429, 500, 503, 599].map(failureKind)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable']);
    expect([400, 401, 403, 404, 422].map(failureKind)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect([100, 302, 304].map(failureKind)).toEqual(['invalid_response', 'invalid_response', 'invalid_response']);
  });

  it('reads a Retry-After HTTP-date as well as seconds', () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const error = catchError(() => readTokenAnswer('p', { status: 503, headers: { 'retry-after': at }, body: '' }, rfc6749ErrorFields));
    expect(error.retryAfterMs).toBeGreaterThan(50_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps provider messages to a readable size', () => {
    const body = JSON.stringify({ error: 'invalid_client', error_description: 'x'.repeat(5000) });
    expect(catchError(() => readTokenAnswer('p', { status: 401, headers: {}, body }, rfc6749ErrorFields)).description).toHaveLength(300);
  });

  it('never throws anything but OAuthProviderError, with the kind the status says, whatever the answer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        hostileBody,
        fc.option(contentType),
        fc.option(fc.string()),
        (status, body, type, retryAfter) => {
          const res: TokenHttpResponse = {
            status,
            headers: { 'content-type': type ?? undefined, 'retry-after': retryAfter ?? undefined },
            body,
          };
          let answer;
          try {
            answer = readTokenAnswer('p', res, rfc6749ErrorFields);
          } catch (error) {
            expect(error).toBeInstanceOf(OAuthProviderError);
            const e = error as OAuthProviderError;
            if (status < 200 || status >= 300) expect(e.kind === failureKind(status) || e.code === 'waf_blocked').toBe(true);
            else expect(e.kind).toBe('invalid_response');
            return;
          }
          expect(status >= 200 && status < 300).toBe(true);
          expect(typeof answer.body).toBe('object');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('turns any JSON object into a grant with a non-empty access token, or invalid_response', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.object(), fc.record({ access_token: fc.jsonValue(), expires_in: fc.jsonValue(), token_type: fc.jsonValue() })),
        (body) => {
          try {
            const grant = grantFrom('p', { status: 200, body: body });
            expect(typeof grant.accessToken).toBe('string');
            expect(grant.accessToken.length).toBeGreaterThan(0);
            expect(grant.expiresIn).toBe((body as Record<string, unknown>).expires_in);
          } catch (error) {
            expect(error).toBeInstanceOf(OAuthProviderError);
            expect((error as OAuthProviderError).kind).toBe('invalid_response');
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  describe('every strategy, against answers served for real by the emulator', () => {
    let emu: ProviderEmulators;
    beforeAll(async () => {
      emu = await startProviderEmulators();
    });
    afterAll(() => emu.close());

    const strategies: Array<[EmulatedEndpoint, () => TokenStrategy]> = [
      ['latam', () => latamPass({ tokenUrl: emu.tokenUrl('latam'), ...emu.credentials.latam })],
      ['transatel', () => transatel({ tokenUrl: emu.tokenUrl('transatel'), ...emu.credentials.transatel })],
      ['payme', () => payme({ tokenUrl: emu.tokenUrl('payme'), ...emu.credentials.payme })],
      ['prio', () => prio({ tokenUrl: emu.tokenUrl('prio'), ...emu.credentials.prio })],
      ['sabre', () => sabre({ tokenUrl: emu.tokenUrl('sabre'), ...emu.credentials.sabre })],
      ['oauth2', () => oauth2({ name: 'acme', tokenUrl: emu.tokenUrl('oauth2'), ...emu.credentials.oauth2 })],
    ];

    it.each(strategies)('%s: resolves with a token or rejects with OAuthProviderError, nothing else', async (endpoint, make) => {
      const strategy = make();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 200, max: 599 }), hostileBody, contentType, async (status, body, type) => {
          emu.failTokenEndpoint(endpoint, { kind: 'garbage', status, contentType: type, body, times: 1 });
          try {
            const grant = await strategy.requestToken(strategyContext());
            expect(grant.accessToken.length).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(OAuthProviderError);
          }
        }),
        { numRuns: 40 },
      );
    });
  });
});

function catchError(fn: () => unknown): OAuthProviderError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthProviderError) return error;
    throw error;
  }
  throw new Error('expected an OAuthProviderError');
}
