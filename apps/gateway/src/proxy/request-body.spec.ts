import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { RequestBody } from './request-body.js';

function body(limit = 1024) {
  const source = new PassThrough();
  const owner = { tooLarge: 0, bodyTooLarge: () => void owner.tooLarge++ };
  const clock = { now: 0 };
  return { source, owner, clock, body: new RequestBody(source as unknown as IncomingMessage, owner, limit, clock) };
}

describe('RequestBody', () => {
  it('passes the body through, counts it, times it and keeps it for a replay', async () => {
    const { source, clock, body: b } = body();
    const read: Buffer[] = [];
    b.on('data', (chunk: Buffer) => read.push(chunk));
    clock.now = 5;
    source.write('hello ');
    source.end('world');
    await new Promise((resolve) => b.once('end', resolve));
    expect(Buffer.concat(read).toString()).toBe('hello world');
    expect(b).toMatchObject({ bytes: 11, ended: true, lastByteAt: 5 });
    expect(b.replay()?.toString()).toBe('hello world');
  });

  it('tells its owner when the body goes over the limit, and forwards nothing past it', async () => {
    const { source, owner, body: b } = body(8);
    const read: Buffer[] = [];
    b.on('data', (chunk: Buffer) => read.push(chunk));
    source.write('12345');
    source.write('6789');
    await tick();
    expect(owner.tooLarge).toBe(1);
    expect(Buffer.concat(read).toString()).toBe('12345');
  });

  it("pauses the caller while nobody reads it, and says so (the silence is then not the caller's)", async () => {
    const { source, body: b } = body(1024 * 1024);
    source.write(Buffer.alloc(64 * 1024));
    await tick();
    expect(b.held).toBe(true);
    expect(source.isPaused()).toBe(true);
    b.read();
    await tick();
    expect(source.isPaused()).toBe(false);
  });

  it('never emits an error anyone must handle, and lets go of the caller once destroyed', async () => {
    const { source, body: b } = body();
    b.destroy(new Error('the upstream went away'));
    await tick();
    expect(b.destroyed).toBe(true);
    expect(source.listenerCount('data')).toBe(0);
    expect(source.isPaused()).toBe(true);
  });
});
