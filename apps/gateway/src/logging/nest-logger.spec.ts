import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogs } from './logger.js';
import { PinoNestLogger } from './nest-logger.js';

async function capture(level: 'debug' | 'info' = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const { logger: root } = await createLogs({ level, production: true, destination });
  return { lines, nest: new PinoNestLogger(root) };
}

describe('PinoNestLogger', () => {
  it("writes Nest's lines at the matching pino level, the trailing string as context", async () => {
    const { lines, nest } = await capture();
    nest.log('Nest application successfully started', 'NestApplication');
    nest.warn('circuit open', 'TokenService');
    nest.debug('token unused', 'TokenRefresher');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, context: 'NestApplication', msg: 'Nest application successfully started' }),
      expect.objectContaining({ level: 40, context: 'TokenService', msg: 'circuit open' }),
      expect.objectContaining({ level: 20, context: 'TokenRefresher', msg: 'token unused' }),
    ]);
  });

  it('keeps a stack passed as error(message, stack, context) as the error, and errors under err', async () => {
    const { lines, nest } = await capture();
    const error = new Error('boom');
    nest.error('refresher error', error.stack, 'TokenRefresher');
    nest.error(error, 'ProblemExceptionFilter');
    expect(lines[0]).toMatchObject({ level: 50, context: 'TokenRefresher', msg: 'refresher error', err: { stack: error.stack } });
    expect(lines[1]).toMatchObject({ level: 50, context: 'ProblemExceptionFilter', msg: 'boom', err: { message: 'boom' } });
  });

  it('redacts secrets in objects it is given, and skips levels that are off', async () => {
    const { lines, nest } = await capture('info');
    nest.log({ msg: 'headers', headers: { 'x-api-key': 'k-secret-123456', authorization: 'Bearer t-123456' } }, 'Test');
    nest.debug('not written', 'Test');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toMatch(/k-secret-123456|t-123456/);
    expect(lines[0]).toMatchObject({
      context: 'Test',
      msg: 'headers',
      headers: { 'x-api-key': '[Redacted]', authorization: '[Redacted]' },
    });
  });
});
