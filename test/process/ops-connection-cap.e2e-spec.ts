import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { HoldingUpstream } from '../support/holding-upstream.js';

const CAP = 300;
const IDLERS = 600;
const AT_ONCE = 50;

/** A caller that sends one keyless request and then holds its connection idle: settled once answered or closed. */
function idler(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // The 401's problem body ends the answer.
      if (text.includes('HTTP/1.1 401') && text.endsWith('}')) resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(socket));
    socket.write('GET /prio/echo HTTP/1.1\r\nHost: gw\r\n\r\n');
  });
}

/** One request with a key on a new connection: its status line. */
function keyed(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    socket.write(`GET /prio/echo HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\n\r\n`);
  });
}

/** `MAX_CONNECTIONS`: callers that only hold idle connections cannot keep a new caller out, nor take the descriptors. */
describe('MAX_CONNECTIONS', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream;
  let gateway: GatewayProcess;
  const idlers: Socket[] = [];

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    upstream = new HoldingUpstream();
    await upstream.start();
    gateway = await GatewayProcess.start({
      ...emulatorEnv(emulators),
      PRIO_API_URL: upstream.url,
      LOG_LEVEL: 'info',
      MAX_CONNECTIONS: String(CAP),
    });
  }, 60_000);

  afterAll(async () => {
    for (const socket of idlers) socket.destroy();
    if (gateway?.alive()) await gateway.stop();
    await upstream.close();
    await emulators.close();
  });

  it(`with ${IDLERS} callers idling after a keyless request, a new caller gets its 200 within a second and descriptors stay bounded`, async () => {
    const providers = (await gateway.waitForLog((l) => l.msg === 'gateway listening', 'the listening line')).providers as string[];
    // The provider's token is fetched now, so that the second below measures the connection only.
    expect(await keyed(gateway.port)).toBe('HTTP/1.1 200 OK');
    for (let n = 0; n < IDLERS; n += AT_ONCE) {
      idlers.push(...(await Promise.all(Array.from({ length: AT_ONCE }, () => idler(gateway.port)))));
    }
    // The cap held: no more caller connections are open than it allows.
    expect(idlers.filter((socket) => !socket.destroyed && socket.readyState === 'open').length).toBeLessThanOrEqual(CAP);

    const started = performance.now();
    expect(await keyed(gateway.port)).toBe('HTTP/1.1 200 OK');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(gateway.descriptors()).toBeLessThan(CAP + 256 * providers.length + 64);
  }, 60_000);
});
