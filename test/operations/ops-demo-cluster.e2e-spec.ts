import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runProcess } from '../support/processes.js';
import { freePort } from '../support/helpers.js';

// `npm test` sets TEST_REDIS_URL to a Redis that answers (it fails under CI=true when none does).
const redisUrl = process.env.TEST_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;

/** `npm run demo:cluster` as the README has a reader run it, on spare ports. */
async function demo(env: Record<string, string>) {
  const ports = { EMULATORS_PORT: String(await freePort()), GATEWAY_PORTS: `${await freePort()} ${await freePort()}` };
  return { ports, ...(await runProcess('npm', ['run', '-s', 'demo:cluster'], { env: { ...ports, ...env } })) };
}

describe('npm run demo:cluster (the several-gateways recipe)', () => {
  describeRedis('with a Redis', () => {
    it('starts the emulators and two gateways sharing one Redis, calls every provider through each, one token request per provider, a clean stop', async () => {
      const { code, stdout, stderr, ports } = await demo({ REDIS_URL: redisUrl! });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const [a, b] = ports.GATEWAY_PORTS.split(' ');
      expect(stdout.trim().split('\n')).toEqual([
        `demo:cluster: provider emulators on http://127.0.0.1:${ports.EMULATORS_PORT}`,
        expect.stringMatching(new RegExp(`^demo:cluster: gateway on http://127.0.0.1:${a} \\(tokens shared through redis://`)),
        expect.stringMatching(new RegExp(`^demo:cluster: gateway on http://127.0.0.1:${b} \\(tokens shared through redis://`)),
        `demo:cluster:   curl -H 'x-api-key: $KEY' http://127.0.0.1:${a}/<provider>/hello: 200 for latam transatel payme prio sabre acme`,
        `demo:cluster:   curl -H 'x-api-key: $KEY' http://127.0.0.1:${b}/<provider>/hello: 200 for latam transatel payme prio sabre acme`,
        'demo:cluster: token requests for the 2 gateways: latam 1, transatel 1, payme 1, prio 1, sabre 1, acme 1',
        'demo:cluster: stopped: every gateway exited 0 on SIGTERM',
      ]);
    }, 180_000);

    describe('when a gateway port is taken', () => {
      let blocker: Server;
      let port: number;
      beforeAll(async () => {
        blocker = createServer((socket) => socket.destroy());
        await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
        port = (blocker.address() as { port: number }).port;
      });
      afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

      it("fails with the gateway's own line, and leaves nothing running", async () => {
        const emulatorsPort = await freePort();
        const { code, stderr } = await runProcess('npm', ['run', '-s', 'demo:cluster'], {
          env: { REDIS_URL: redisUrl!, EMULATORS_PORT: String(emulatorsPort), GATEWAY_PORTS: `${port}` },
        });
        expect(code).toBe(1);
        expect(stderr).toBe(
          `demo:cluster: the gateway on port ${port} did not start: The gateway could not start: 127.0.0.1:${port} is already in use (set PORT, or HOST, to a free one)\n`,
        );
        // The emulators it started were stopped on the way out: their port is free again.
        await expect(fetch(`http://127.0.0.1:${emulatorsPort}/`)).rejects.toThrow();
      }, 180_000);
    });
  });

  it('says in one line that no Redis answers, exit 1', async () => {
    const { code, stdout, stderr } = await demo({ REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^demo:cluster: no Redis answers at redis:\/\/127\.0\.0\.1:\d+\/0: start one \(redis-server\) or set REDIS_URL\n$/,
    );
  }, 60_000);
});
