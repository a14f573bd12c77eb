import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { HoldingUpstream } from '../support/holding-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { waitUntil } from '../support/helpers.js';

/** One kept-alive connection: what was written back on it, until it closes. */
function openConnection(url: string): { socket: Socket; text: () => string; closed: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname).setNoDelay(true);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => text, closed };
}

const statusLines = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

/** From the first SIGTERM, /health/ready answers 503 while in-flight requests drain. */
describe('readiness during a graceful shutdown', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    upstream = new HoldingUpstream();
    await upstream.start();
    gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), PRIO_API_URL: upstream.url, LOG_LEVEL: 'info' });
  }, 60_000);

  afterAll(async () => {
    if (gateway?.child.exitCode === null) gateway.child.kill('SIGKILL');
    upstream.release();
    await upstream.close();
    await emulators.close();
  });

  it('answers 503 draining on a kept-alive connection while a slow request finishes, then exits 0', async () => {
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
    const conn = openConnection(gateway.url);
    // A slow answer whose head (kept alive) is out before the signal: the connection stays busy, so the drain keeps it.
    conn.socket.write(`GET /prio/stream HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\n\r\n`);
    await waitUntil(() => conn.text().includes('first;'), 'the head and first chunk of the slow answer');
    expect(conn.text().toLowerCase()).not.toContain('connection: close');

    const exited = gateway.stop();
    await gateway.waitForLog((l) => l.msg === 'shutting down: no new connections, finishing in-flight requests', 'the drain to start');
    await expect(fetch(`${gateway.url}/health/ready`)).rejects.toThrow(); // no new connections
    // The probe, pipelined on the kept-alive connection (so in the gateway's hands before the slow answer can end): answered after it.
    conn.socket.write('GET /health/ready HTTP/1.1\r\nHost: gw\r\n\r\n');
    upstream.release();
    await conn.closed;

    expect(statusLines(conn.text())).toEqual([200, 503]);
    const ready = conn.text().slice(conn.text().lastIndexOf('HTTP/1.1 503'));
    expect(ready.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(ready.slice(ready.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'unavailable', draining: true });
    expect(await exited).toBe(0);
  });
});
