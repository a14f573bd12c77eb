import { describe, expect, it } from '@jest/globals';
import { defaultMaxConnections } from './connection-limit.js';
import { parseGatewayConfig } from './parse-config.js';

const limits = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 1048576              files     \n`;

describe('MAX_CONNECTIONS', () => {
  it('defaults to three quarters of the soft descriptor limit, at most 50000, and 10000 where the limit cannot be read', () => {
    expect(defaultMaxConnections(limits('1024'))).toBe(768);
    expect(defaultMaxConnections(limits('20000'))).toBe(15_000);
    expect(defaultMaxConnections(limits('1048576'))).toBe(50_000);
    expect(defaultMaxConnections(limits('unlimited'))).toBe(50_000);
    expect(defaultMaxConnections('')).toBe(10_000);
    expect(defaultMaxConnections('Max cpu time unlimited')).toBe(10_000);
  });

  it('takes a set value as it is, 0 (no cap) included, and refuses anything but a whole number', () => {
    const env = { SANDBOX: 'true' };
    expect(parseGatewayConfig({ ...env, MAX_CONNECTIONS: '0' }).maxConnections).toBe(0);
    expect(parseGatewayConfig({ ...env, MAX_CONNECTIONS: '300' }).maxConnections).toBe(300);
    expect(parseGatewayConfig(env).maxConnections).toBe(defaultMaxConnections());
    expect(() => parseGatewayConfig({ ...env, MAX_CONNECTIONS: '-1' })).toThrow(/MAX_CONNECTIONS: must be a whole number/);
    expect(() => parseGatewayConfig({ ...env, MAX_CONNECTIONS: '2000000' })).toThrow(/MAX_CONNECTIONS: must be at most 1000000/);
  });
});
