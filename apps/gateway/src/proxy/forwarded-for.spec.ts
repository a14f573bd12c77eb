import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ForwardedFor } from './forwarded-for.js';

const request = (remoteAddress: string, xff?: string | string[]) =>
  ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('ForwardedFor (TRUSTED_PROXIES)', () => {
  const trusted = new ForwardedFor([
    { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    { address: '::1', prefix: 128, family: 'ipv6' },
  ]);

  it('trusts nobody by default: the caller is the peer and its x-forwarded-for is replaced', () => {
    const none = new ForwardedFor([]);
    expect(none.clientAddress(request('10.1.1.1', '198.51.100.1'))).toBe('10.1.1.1');
    expect(none.header(request('10.1.1.1', '198.51.100.1'))).toBe('10.1.1.1');
  });

  it('walks x-forwarded-for from the right past trusted proxies, as Express does', () => {
    expect(trusted.clientAddress(request('10.0.0.2', '198.51.100.1, 10.0.0.9'))).toBe('198.51.100.1');
    expect(trusted.clientAddress(request('10.0.0.2', '203.0.113.5, 198.51.100.1'))).toBe('198.51.100.1');
    expect(trusted.clientAddress(request('10.0.0.2', ['198.51.100.1', '10.0.0.3']))).toBe('198.51.100.1');
    expect(trusted.clientAddress(request('::1', '2001:db8::7'))).toBe('2001:db8::7');
    expect(trusted.clientAddress(request('::ffff:10.0.0.2', '198.51.100.1'))).toBe('198.51.100.1');
    // Every hop trusted: the farthest one; a malformed hop stops the walk at the last good address.
    expect(trusted.clientAddress(request('10.0.0.2', '10.0.0.7, 10.0.0.8'))).toBe('10.0.0.7');
    expect(trusted.clientAddress(request('10.0.0.2', 'not-an-ip, 10.0.0.8'))).toBe('10.0.0.8');
    // From an untrusted peer the header is not believed.
    expect(trusted.clientAddress(request('192.0.2.1', '198.51.100.1'))).toBe('192.0.2.1');
  });

  it('never lets a caller that is not a trusted proxy choose the address, whatever it sends', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), { maxLength: 5 }), (peer, hops) => {
        fc.pre(!peer.startsWith('10.'));
        const req = request(peer, hops.join(', '));
        expect(trusted.clientAddress(req)).toBe(peer);
        expect(trusted.header(req)).toBe(peer);
      }),
    );
  });
});
