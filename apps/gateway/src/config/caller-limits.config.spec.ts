import { describe, expect, it } from '@jest/globals';
import { parseGatewayConfig } from './parse-config.js';
import { problems } from '../../../../test/support/gateway-config.js';

describe('caller limits and trusted proxies in the configuration', () => {
  it('defaults to 10 s for a request head or the next body byte, 60 s for a whole body, 100 headers and no trusted proxy', () => {
    expect(parseGatewayConfig({})).toMatchObject({
      clientTimeoutMs: 10_000,
      uploadTimeoutMs: 60_000,
      maxHeaderCount: 100,
      trustedProxies: [],
    });
  });

  it('reads CLIENT_TIMEOUT_MS, UPLOAD_TIMEOUT_MS and MAX_HEADER_COUNT', () => {
    expect(parseGatewayConfig({ CLIENT_TIMEOUT_MS: '2500', UPLOAD_TIMEOUT_MS: '120000', MAX_HEADER_COUNT: '50' })).toMatchObject({
      clientTimeoutMs: 2500,
      uploadTimeoutMs: 120_000,
      maxHeaderCount: 50,
    });
  });

  it('refuses limits that are not whole positive numbers, or more headers than Node can count', () => {
    expect(problems({ CLIENT_TIMEOUT_MS: '0', UPLOAD_TIMEOUT_MS: '1.5', MAX_HEADER_COUNT: '1001' })).toEqual([
      'CLIENT_TIMEOUT_MS: must be at least 1',
      'UPLOAD_TIMEOUT_MS: must be a whole number, at least 1',
      'MAX_HEADER_COUNT: must be at most 1000',
    ]);
  });

  it('reads TRUSTED_PROXIES as addresses and CIDR ranges, IPv4 and IPv6', () => {
    expect(parseGatewayConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,::1, fd00::/8' }).trustedProxies).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '192.168.1.7', prefix: 32, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.1/8/1', '10.0.0.0/', '10.0.0.0/x', '10.0.0.1,,10.0.0.2', '300.1.1.1'])(
    'refuses TRUSTED_PROXIES=%s',
    (value) => {
      expect(problems({ TRUSTED_PROXIES: value })).toEqual([
        'TRUSTED_PROXIES: must be a comma-separated list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8,::1)',
      ]);
    },
  );
});
