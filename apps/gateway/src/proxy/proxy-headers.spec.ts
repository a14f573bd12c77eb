import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { ForwardedFor } from './forwarded-for.js';
import { callerResponseHeaders, upstreamRequestHeaders, withProviderHeaders } from './proxy-headers.js';

const incoming = (headers: Record<string, string>, remoteAddress = '10.1.2.3') =>
  ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;
const nobodyTrusted = new ForwardedFor([]);

describe('proxy headers', () => {
  it('drops credentials, hop-by-hop and connection-named headers on the way up, and adds forwarding headers', () => {
    const out = upstreamRequestHeaders(
      incoming({
        host: 'gw.example',
        authorization: 'Basic x',
        'x-api-key': 'k',
        cookie: 'c=1',
        connection: 'Keep-Alive, X-Private',
        'x-private': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        te: 'trailers',
        expect: '100-continue',
        'x-request-id': 'theirs',
        accept: 'application/json',
      }),
      'req-1',
      nobodyTrusted,
    );
    expect(out).toEqual({
      accept: 'application/json',
      'x-forwarded-for': '10.1.2.3',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw.example',
      'x-request-id': 'req-1',
    });
  });

  it('strips the headers by which a caller could pose as a proxy or redirect the request, and replaces an untrusted x-forwarded-for', () => {
    const out = upstreamRequestHeaders(
      incoming({
        forwarded: 'for=203.0.113.9;host=evil.example',
        'x-real-ip': '203.0.113.9',
        'x-forwarded-port': '8443',
        'x-original-url': '/admin',
        'x-rewrite-url': '/admin',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        accept: '*/*',
      }),
      'req-3',
      nobodyTrusted,
    );
    expect(out).toEqual({ accept: '*/*', 'x-forwarded-for': '10.1.2.3', 'x-forwarded-proto': 'http', 'x-request-id': 'req-3' });
  });

  it('keeps and appends to x-forwarded-for from a trusted proxy, unless the connection header names it', () => {
    const trusted = new ForwardedFor([{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }]);
    expect(upstreamRequestHeaders(incoming({ 'x-forwarded-for': '198.51.100.4' }), 'r', trusted)['x-forwarded-for']).toBe(
      '198.51.100.4, 10.1.2.3',
    );
    expect(
      upstreamRequestHeaders(incoming({ 'x-forwarded-for': '198.51.100.4', connection: 'x-forwarded-for' }), 'r', trusted)[
        'x-forwarded-for'
      ],
    ).toBe('10.1.2.3');
    expect(upstreamRequestHeaders(incoming({ 'x-forwarded-for': '198.51.100.4' }, '192.0.2.1'), 'r', trusted)['x-forwarded-for']).toBe(
      '192.0.2.1',
    );
  });

  it('lets provider headers replace caller headers of the same name, whatever their case', () => {
    const headers = { client_id: 'spoofed', accept: '*/*' };
    const provider = Object.freeze({ client_id: 'real', access_token: 'tok', 'ALG-API-VERSION': '1' });
    expect(withProviderHeaders(headers, provider)).toEqual({
      client_id: 'real',
      access_token: 'tok',
      'alg-api-version': '1',
      accept: '*/*',
    });
  });

  it('drops hop-by-hop headers from the answer and sets our x-request-id', () => {
    expect(
      callerResponseHeaders(
        {
          'content-type': 'text/plain',
          connection: 'x-up-private',
          'x-up-private': '1',
          'transfer-encoding': 'chunked',
          'x-request-id': 'upstream',
          'set-cookie': ['a=1', 'b=2'],
        },
        'req-2',
      ),
    ).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-request-id': 'req-2' });
  });
});
