import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { LogLevel } from '../config/gateway-config.js';
import { AccessLog, type AccessLine } from './access-log.js';
import { createLogs } from './logger.js';

/** The gateway's logs written into an array of raw lines. */
async function capture(level: LogLevel = 'info') {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { raw, ...(await createLogs({ level, production: true, destination })) };
}

const line = (overrides: Partial<AccessLine> = {}): AccessLine => ({
  reqId: '5f0c8a3e-1d2b-4c5d-9e6f-7a8b9c0d1e2f',
  caller: 'partner-a',
  client: '::ffff:10.0.0.7',
  upstreamMs: 12,
  bytesIn: 0,
  bytesOut: 634,
  provider: 'prio',
  method: 'GET',
  path: '/products',
  status: 200,
  outcome: 'ok',
  ms: 14,
  ...overrides,
});

describe('AccessLog', () => {
  it('writes the line pino would write for the same fields, in the same order, on the root destination', async () => {
    const { raw, logger, accessLog } = await capture();
    const fields = line();
    accessLog.write(fields);
    logger.child({}, { redact: { paths: [] } }).info(fields, 'proxied');
    expect(raw).toHaveLength(2);
    const withoutTime = (text: string) => text.replace(/"time":\d+/, '"time":0');
    expect(withoutTime(raw[0])).toBe(withoutTime(raw[1]));
    expect(JSON.parse(raw[0])).toMatchObject({ level: 30, pid: process.pid, ...fields, msg: 'proxied' });
  });

  it('leaves upstreamMs out for a request that never went upstream, as pino does', async () => {
    const { raw, accessLog } = await capture();
    accessLog.write(line({ upstreamMs: undefined, caller: '-', provider: '-', status: 401 }));
    expect(raw[0]).not.toContain('upstreamMs');
    expect(JSON.parse(raw[0])).toMatchObject({ caller: '-', provider: '-', status: 401 });
  });

  it('writes nothing when info lines are off', async () => {
    const { raw, accessLog } = await capture('warn');
    accessLog.write(line());
    expect(raw).toEqual([]);
  });

  it('keeps one valid JSON line whatever a caller puts in the path and request id', async () => {
    const { raw, accessLog } = await capture();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (path, reqId) => {
        raw.length = 0;
        accessLog.write(line({ path, reqId }));
        expect(raw).toHaveLength(1);
        expect(JSON.parse(raw[0])).toMatchObject({ path, reqId, msg: 'proxied' });
      }),
    );
  });

  it("writes the root logger's base fields after the time, as pino does", () => {
    const raw: string[] = [];
    const destination = { write: (text: string) => void raw.push(text) };
    const base = { pid: 7, host: 'gw-1' };
    const logger = pino({ base }, destination);
    new AccessLog(logger, destination, base).write(line());
    logger.info(line(), 'proxied');
    expect(raw[0].replace(/"time":\d+/, '')).toBe(raw[1].replace(/"time":\d+/, ''));
    expect(raw[0]).toMatch(/^\{"level":30,"time":\d+,"pid":7,"host":"gw-1","reqId":/);
  });
});
