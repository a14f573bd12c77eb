import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { TokenStore } from '@oauth-gateway/oauth-providers';
import type { Gateway } from '../../apps/gateway/src/gateway.factory.js';
import { REPEATED_SIGNAL_MS, runGateway } from '../../apps/gateway/src/gateway.runner.js';
import { emulatorEnv, expectNoSecretIn, FAST_RETRY, KEY_ALL, LogCapture } from '../support/gateway-harness.js';

const redisUrl = process.env.TEST_REDIS_URL;
const BODY_BYTES = 512 * 1024;
const CHUNK = 64 * 1024;
const BODY = Buffer.from(Array.from({ length: BODY_BYTES }, (_, i) => i % 251));

/**
 * A provider API whose answers wait until the test releases them: "in flight" is a fact the test
 * observes (the upstream has the request), not a guess about timing.
 */
class HoldingUpstream {
  private readonly server: Server;
  private readonly held: ServerResponse[] = [];
  private readonly arrivals = new EventEmitter();
  url = '';

  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      if (req.url?.endsWith('/quick')) {
        res.end('quick');
        return;
      }
      this.held.push(res);
      this.arrivals.emit('arrival', this.held.length);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/api`;
  }

  /** Resolves once `count` requests are being held. */
  holding(count: number): Promise<void> {
    if (this.held.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (n: number) => {
        if (n < count) return;
        this.arrivals.off('arrival', check);
        resolve();
      };
      this.arrivals.on('arrival', check);
    });
  }

  /** Answers every held request: 200 and BODY_BYTES of a known pattern, in several writes. */
  releaseAll(): void {
    for (const res of this.held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY_BYTES) });
      for (let offset = 0; offset < BODY_BYTES; offset += CHUNK) res.write(BODY.subarray(offset, offset + CHUNK));
      res.end();
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function get(url: string, path: string, agent?: Agent): Promise<{ status: number; body: Buffer; connection?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, agent, headers: { 'x-api-key': KEY_ALL } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TCP connection to the gateway's port is accepted now. */
function connects(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Running {
  gateway: Gateway;
  signals: EventEmitter;
  exited: Promise<{ code: number; ms: number }>;
  signalledAt(): number;
}

async function run(env: Record<string, string>, logs: LogCapture, shutdownTimeoutMs: number, now?: () => number): Promise<Running> {
  const signals = new EventEmitter();
  let signalled = 0;
  signals.prependListener('SIGTERM', () => (signalled = performance.now()));
  let exit!: (result: { code: number; ms: number }) => void;
  const exited = new Promise<{ code: number; ms: number }>((resolve) => (exit = resolve));
  const gateway = await runGateway(
    env,
    { exit: (code) => exit({ code, ms: performance.now() - signalled }), error: (line) => logs.write(`${line}\n`), signals, now },
    { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY }, shutdownTimeoutMs },
  );
  if (!gateway) throw new Error(`the gateway did not start: ${logs.text()}`);
  return { gateway, signals, exited, signalledAt: () => signalled };
}

describe('graceful shutdown on SIGTERM', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream | undefined;
  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(() => emulators.close());
  afterEach(async () => {
    upstream?.releaseAll();
    await upstream?.close();
    upstream = undefined;
  });

  const envFor = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...emulatorEnv(emulators),
    PRIO_API_URL: upstream!.url,
    ...extra,
  });

  (redisUrl ? it : it.skip)(
    'refuses new connections at once, completes every in-flight response in full, then stops the refresher and closes Redis, and exits 0',
    async () => {
      const held = (upstream = new HoldingUpstream());
      await held.start();
      const logs = new LogCapture();
      const env = envFor({ REDIS_URL: redisUrl!, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') });
      const { gateway, signals, exited } = await run(env, logs, 10_000);
      const store = gateway.app.get<TokenStore>(TokenStore);
      const timers = gateway.app.get(SchedulerRegistry);
      // Answers the gateway finished (its access lines), counted when Redis closes: the caller may
      // read the last bytes a moment later, so client-side order would prove nothing.
      const finished = () => logs.lines.filter((l) => l.includes('"msg":"proxied"') && l.includes('"path":"/slow-report"')).length;
      let finishedWhenStoreClosed = -1;
      const storeClose = store.close!.bind(store);
      jest.spyOn(store, 'close').mockImplementation(async () => {
        finishedWhenStoreClosed = finished();
        await storeClose();
      });

      // A kept-alive connection that is idle when the signal comes: closed by the drain, not waited for.
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 60 });
      expect((await get(gateway.url, '/prio/quick', keepAlive)).status).toBe(200);
      expect(timers.getTimeouts()).toContain('oauth-refresh:prio');

      // 50 requests in flight: the provider API holds every one of them.
      const inflight = Array.from({ length: 50 }, () => get(gateway.url, '/prio/slow-report', keepAlive));
      await held.holding(50);

      signals.emit('SIGTERM');
      expect(await connects(gateway.url)).toBe(false);
      held.releaseAll();

      const answers = await Promise.all(inflight);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body.length).toBe(BODY_BYTES);
        expect(answer.body.equals(BODY)).toBe(true);
      }
      const { code, ms } = await exited;
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5_000);
      // Redis closed only after every answer went out; the refresher has nothing armed any more.
      expect(finishedWhenStoreClosed).toBe(50);
      expect(timers.getTimeouts()).toEqual([]);
      const stopped = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'gateway stopped');
      expect(stopped).toMatchObject({ forced: false });
      expect(finished()).toBe(50);
      keepAlive.destroy();
      expectNoSecretIn(logs.text(), [env.TOKEN_ENCRYPTION_KEY, KEY_ALL, emulators.credentials.prio.clientSecret]);
    },
  );

  it('cuts a request that outlives SHUTDOWN_TIMEOUT_MS and still exits, within the bound', async () => {
    const held = (upstream = new HoldingUpstream());
    await held.start();
    const logs = new LogCapture();
    const { gateway, signals, exited } = await run(envFor(), logs, 300);
    const stuck = get(gateway.url, '/prio/never-answered').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await held.holding(1);
    signals.emit('SIGTERM');
    expect(await connects(gateway.url)).toBe(false);
    const { code, ms } = await exited;
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(3_000);
    expect(await stuck).toBe('ECONNRESET');
    expect(logs.text()).toContain('shutdown bound reached');
  });

  /** A gateway on a fake clock (signals apart by exactly what a test says) with one request held upstream. */
  const heldUnderFakeClock = async (shutdownTimeoutMs: number) => {
    const held = (upstream = new HoldingUpstream());
    await held.start();
    let clock = 1_000;
    const logs = new LogCapture();
    const running = await run(envFor(), logs, shutdownTimeoutMs, () => clock);
    const inflight = get(running.gateway.url, '/prio/slow-report');
    await held.holding(1);
    return { ...running, held, logs, inflight, advance: (ms: number) => (clock += ms) };
  };

  it('regression: the same SIGTERM delivered twice (to the process group: directly and through npm) drains once and exits 0', async () => {
    const { held, signals, exited, inflight, advance } = await heldUnderFakeClock(10_000);
    signals.emit('SIGTERM');
    advance(REPEATED_SIGNAL_MS - 1);
    signals.emit('SIGTERM');
    held.releaseAll();
    const answer = await inflight;
    expect(answer.status).toBe(200);
    expect(answer.body.equals(BODY)).toBe(true);
    expect((await exited).code).toBe(0);
  });

  it('exits 1 at once on a second signal REPEATED_SIGNAL_MS after the first, cutting the drain short, after one line saying what it cuts', async () => {
    const { held, gateway, signals, exited, inflight, advance, logs } = await heldUnderFakeClock(600_000);
    let settled = false;
    void inflight.finally(() => (settled = true));
    signals.emit('SIGTERM');
    advance(REPEATED_SIGNAL_MS);
    signals.emit('SIGINT');
    // The exit comes while the drain still waits for the held answer (the real process ends there; this one is cleaned up).
    expect((await exited).code).toBe(1);
    expect(settled).toBe(false);
    const cut = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith('second signal'));
    expect(cut).toEqual([
      expect.objectContaining({ msg: 'second signal: exiting at once, in-flight requests cut', signal: 'SIGINT', cut: 1 }),
    ]);
    held.releaseAll();
    await inflight;
    await gateway.close();
  });

  it('refuses a SHUTDOWN_TIMEOUT_MS that is not a number of milliseconds', async () => {
    const errors: string[] = [];
    let exitCode: number | undefined;
    const gateway = await runGateway(
      { ...emulatorEnv(emulators), SHUTDOWN_TIMEOUT_MS: 'soon' },
      { exit: (code) => (exitCode = code), error: (line) => errors.push(line) },
    );
    expect(gateway).toBeUndefined();
    expect(exitCode).toBe(1);
    expect(errors.join('\n')).toContain('SHUTDOWN_TIMEOUT_MS');
  });
});
