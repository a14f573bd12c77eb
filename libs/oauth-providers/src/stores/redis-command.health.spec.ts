import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { logClientErrors, RedisCommandHealth } from './redis-command.health.js';

/** A logger that keeps its lines, and a client whose connection state the test sets. */
function setup() {
  const lines: Array<{ level: string; line: unknown }> = [];
  const logger = {
    warn: (line: unknown) => void lines.push({ level: 'warn', line }),
    log: (line: unknown) => void lines.push({ level: 'info', line }),
  } as unknown as Logger;
  const client = Object.assign(new EventEmitter(), { status: 'ready' }) as unknown as Redis & { status: string };
  let now = 0;
  const health = new RedisCommandHealth('token_store', client, logger, () => now);
  const timeout = () => health.run(() => Promise.reject(new Error('Command timed out'))).catch(() => undefined);
  const refused = () =>
    health.run(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).catch(() => undefined);
  const ok = () => health.run(async () => 'OK');
  return { lines, logger, client, health, timeout, refused, ok, advance: (ms: number) => (now += ms) };
}

describe('RedisCommandHealth', () => {
  it('is degraded from the first failed or timed-out command until one succeeds, and while disconnected', async () => {
    const { health, client, timeout, ok } = setup();
    expect(health.isDegraded()).toBe(false);
    await timeout();
    expect(health.isDegraded()).toBe(true);
    await ok();
    expect(health.isDegraded()).toBe(false);
    client.status = 'reconnecting';
    expect(health.isDegraded()).toBe(true);
  });

  it('writes one warning when an outage starts and one line with its duration when it ends', async () => {
    const { lines, timeout, ok, advance } = setup();
    await timeout();
    advance(1500);
    await timeout();
    await timeout();
    await ok();
    await ok();
    expect(lines).toEqual([
      { level: 'warn', line: { msg: 'Redis commands failing', use: 'token_store', cause: 'timeout' } },
      { level: 'info', line: { msg: 'Redis answering again', use: 'token_store', outageMs: 1500 } },
    ]);
  });

  it('writes a cause at most once a minute, however often the outages flap; another cause gets its own line', async () => {
    const { lines, timeout, refused, ok, advance } = setup();
    for (let i = 0; i < 5; i++) {
      await timeout();
      advance(1000);
      await ok();
    }
    await refused();
    await ok();
    advance(60_000);
    await timeout();
    expect(lines.map(({ level, line }) => [level, (line as { cause?: string }).cause])).toEqual([
      ['warn', 'timeout'],
      ['info', undefined],
      ['warn', 'ECONNREFUSED'],
      ['info', undefined],
      ['warn', 'timeout'],
    ]);
  });

  it('counts the timeouts, not the other failures', async () => {
    const { health, timeout, refused } = setup();
    await timeout();
    await refused();
    await timeout();
    expect(health.timeouts).toBe(2);
  });

  it("gives up on a command after the client's command timeout, even while the client keeps it (a Cluster retrying across a failover)", async () => {
    const { logger } = setup();
    const client = Object.assign(new EventEmitter(), { status: 'ready', options: { commandTimeout: 50 } }) as unknown as Redis;
    const health = new RedisCommandHealth('rate_limit', client, logger);
    await expect(health.run(() => new Promise(() => undefined))).rejects.toThrow('Command timed out');
    expect([health.timeouts, health.isDegraded()]).toEqual([1, true]);
  });

  it("logs the client's errors once per cause per minute", () => {
    const { lines, logger, client } = setup();
    logClientErrors(client, logger);
    for (let i = 0; i < 3; i++)
      client.emit('error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    client.emit('error', new Error('Failed to refresh slots cache.'));
    expect(lines.map(({ line }) => line)).toEqual([
      { msg: 'Redis client error', cause: 'ECONNREFUSED' },
      { msg: 'Redis client error', cause: 'Failed to refresh slots cache.' },
    ]);
  });
});
