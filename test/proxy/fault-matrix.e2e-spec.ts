import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEY_ALL, until } from '../support/gateway-harness.js';
import { FaultRig } from '../support/fault-rig.js';
import { allCells, describeOutcome, expected, impossible, type Cell } from '../support/fault-matrix.js';
import type { UpstreamBehaviour } from '../support/fault-upstream.js';
import { RawCaller } from '../support/raw-http.js';
import { waitUntil } from '../support/helpers.js';

const MAX_BODY_BYTES = 8192;
const CLIENT_TIMEOUT_MS = 400;
const UPSTREAM_TIMEOUT_MS = 800;
const POOL_CONNECTIONS = 2;
/** How much the gateway's resident memory may grow over the whole matrix. */
const RSS_TOLERANCE = 64 * 1024 * 1024;
const PROBLEM_CODES: Record<number, string> = {
  408: 'request_timeout',
  413: 'payload_too_large',
  502: 'upstream_unreachable',
  504: 'upstream_timeout',
};

const cells = allCells();
const possible = cells.filter((cell) => impossible(cell) === undefined);
const name = ({ shape, phase, fault }: Cell) => `${shape} × ${phase} × ${fault}`;
const chunk = (size: number, fill = 'b') => `${size.toString(16)}\r\n${fill.repeat(size)}\r\n`;

/** What each shape sends: its head, the part sent with the head (after the 100 for `expect`), and the rest. */
function wire(cell: Cell, target: string, id: string): { head: string; first: string; rest: string } {
  const head = (method: string, extra: string) =>
    `${method} ${target} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\n${extra}\r\n`;
  switch (cell.shape) {
    case 'none':
      return { head: head('GET', ''), first: '', rest: '' };
    case 'small':
      return { head: head('POST', 'content-length: 5\r\n'), first: 'hello', rest: '' };
    case 'length':
      return { head: head('POST', 'content-length: 6000\r\n'), first: 'a'.repeat(1000), rest: 'a'.repeat(5000) };
    case 'expect':
      return { head: head('POST', 'content-length: 6000\r\nexpect: 100-continue\r\n'), first: 'a'.repeat(1000), rest: 'a'.repeat(5000) };
    case 'chunked':
      return { head: head('POST', 'transfer-encoding: chunked\r\n'), first: chunk(1000), rest: `${chunk(5000)}0\r\n\r\n` };
    case 'over':
      return { head: head('POST', 'transfer-encoding: chunked\r\n'), first: chunk(1000), rest: chunk(10_000) };
  }
}

/** What the upstream does with the cell's request. */
function behaviour({ phase, fault }: Cell): UpstreamBehaviour {
  const byPhase: Record<string, Partial<Record<Cell['fault'], UpstreamBehaviour>>> = {
    slot: { resets: 'reset-head', hangs: 'hang-complete' },
    sending: { resets: 'reset-body', hangs: 'hang-body', 'caller-aborts': 'hang-complete', 'caller-stalls': 'hang-complete' },
    waiting: { resets: 'reset-complete', hangs: 'hang-complete', 'caller-aborts': 'hang-complete' },
    streaming: { resets: 'answer-reset', hangs: 'answer-hang', 'caller-aborts': 'big', 'caller-stalls': 'big' },
  };
  return byPhase[phase]?.[fault] ?? 'ok';
}

/**
 * The fault matrix on a real gateway process with real sockets: each cell brings one request to
 * its phase, injects its fault there, and checks what the caller got and what the access line
 * says; then that the process is alive, no request is left in any upstream pool (every pooled
 * connection free), its descriptors (idle pooled connections aside) are back to their count
 * before the matrix, and its memory grew less than 64 MiB.
 */
describe('fault matrix: request shapes × phases × faults, on a real gateway process', () => {
  const rig = new FaultRig();
  let baseline = { descriptors: 0, rss: 0 };
  /** Open descriptors other than the pools' idle connections (undici may open one after an aborted exchange, kept until its keep-alive timeout). */
  const ownDescriptors = async () => rig.gateway.descriptors() - (await rig.gateway.stats()).connected;
  let tokenProviders: string[] = [];
  let n = 0;

  beforeAll(async () => {
    await rig.start({
      tokenProviders: possible.filter((cell) => cell.phase === 'token').length,
      env: {
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        CLIENT_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS),
        UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
        UPLOAD_TIMEOUT_MS: '20000',
      },
      gateway: { upstreamConnections: POOL_CONNECTIONS },
    });
    tokenProviders = [...rig.tokenProviders];
    // Warm every path once (tokens of the shared providers, pools, JIT), then take the baseline.
    for (const target of ['/up/ok/warm-get', '/refused/x', '/blackhole/x']) {
      const caller = await RawCaller.open(rig.gateway.port);
      caller.write(`GET ${target} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nconnection: close\r\n\r\n`);
      await caller.settle();
    }
    const post = await RawCaller.open(rig.gateway.port);
    post.write(
      `POST /up/ok/warm-post HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello`,
    );
    await post.settle();
    await quiet();
    baseline = { descriptors: await ownDescriptors(), rss: rig.gateway.rss() };
  }, 120_000);

  afterAll(async () => {
    const stderr = rig.gateway?.stderr() ?? '';
    await rig.stop();
    expect(stderr).toBe('');
  });

  /** No request left in any pool, and the caller-side sockets closed. */
  async function quiet(): Promise<void> {
    await waitUntil(async () => {
      const stats = await rig.gateway.stats();
      return stats.size === 0 && stats.free === stats.connected;
    }, 'the upstream pools to be idle');
  }

  it('covers every cell: each either has an expected outcome or a reason it cannot happen', () => {
    expect(cells).toHaveLength(6 * 5 * 6);
    const reasons = new Set(cells.map(impossible).filter(Boolean));
    expect(reasons.size).toBeGreaterThanOrEqual(8); // every rule of the table is used
    expect(possible.length).toBeGreaterThan(90);
  });

  it.each(possible.map((cell) => [name(cell), describeOutcome(expected(cell)), cell] as const))(
    '%s → %s',
    async (_name, _outcome, cell) => {
      const id = `cell-${++n}-${cell.shape}-${cell.phase}-${cell.fault}`;
      const outcome = expected(cell);
      const provider =
        cell.phase === 'token'
          ? tokenProviders.shift()!
          : cell.fault === 'refuses'
            ? 'refused'
            : cell.fault === 'connect-timeout'
              ? 'blackhole'
              : 'up';
      const { head, first, rest } = wire(cell, `/${provider}/${behaviour(cell)}/${id}`, id);
      const fillers: RawCaller[] = [];
      const hangingBefore = rig.emulators.hangingRequests('oauth2');
      if (cell.phase === 'token') rig.emulators.failTokenEndpoint('oauth2', { kind: 'hang', times: 1 });
      if (cell.phase === 'slot') {
        // The pool this request will use, filled with requests the upstream holds.
        for (let i = 0; i < POOL_CONNECTIONS; i++) {
          const filler = await RawCaller.open(rig.gateway.port);
          const target = `/up/hold/${id}-filler-${i}`;
          filler.write(
            cell.shape === 'none'
              ? `GET ${target} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\n\r\n`
              : `POST ${target} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\ncontent-length: 1\r\n\r\nx`,
          );
          fillers.push(filler);
        }
        await until(() => rig.upstream.heldCount() === POOL_CONNECTIONS, 'the pool to be full');
      }

      const caller = await RawCaller.open(rig.gateway.port);
      let restSent = false;
      const sendRest = () => {
        if (!restSent) caller.write(rest);
        restSent = true;
      };
      caller.write(head);
      if (cell.shape === 'expect' && cell.phase !== 'token')
        await caller.waitFor(() => caller.got100() || caller.final() !== undefined, 'the 100 Continue');
      if (cell.shape !== 'expect' || cell.phase !== 'token') caller.write(first);
      // A request must be whole before the upstream can have it whole.
      if ((cell.phase === 'waiting' || cell.phase === 'streaming') && cell.shape !== 'over') sendRest();

      // The phase: wait until the request is there.
      const record = () => rig.upstream.record(id);
      switch (cell.phase) {
        case 'token':
          await until(() => rig.emulators.hangingRequests('oauth2') > hangingBefore, 'the token request to hang');
          break;
        case 'slot':
          await waitUntil(async () => (await rig.gateway.stats()).queued >= 1, 'the request to wait for a pool slot');
          break;
        case 'sending':
          if (cell.fault === 'refuses' || cell.fault === 'resets')
            await caller.waitFor(() => caller.final() !== undefined, 'the answer to the failed exchange');
          else if (cell.fault === 'connect-timeout')
            await until(() => rig.gateway.connectingTo(rig.blackhole.port) >= 1, 'the gateway to be connecting');
          else await until(() => (record()?.bodyBytes ?? 0) > 0, 'the upstream to have part of the body');
          break;
        case 'waiting':
          await until(() => record()?.complete === true, 'the upstream to have the whole request');
          break;
        case 'streaming':
          await caller.waitFor(() => (caller.final()?.body.length ?? 0) > 0, 'part of the answer');
          break;
      }

      // The fault, and what the caller sends after it.
      if (cell.fault === 'caller-aborts') {
        if (cell.shape === 'over') sendRest();
        caller.abort();
      } else if (cell.fault === 'caller-stalls') {
        if (cell.shape === 'over') sendRest();
        if (cell.phase === 'streaming') caller.socket.pause();
      } else {
        sendRest();
      }
      if (cell.phase === 'slot') rig.upstream.releaseAll();

      // What the caller got, and what the access line says.
      if ('gone' in outcome) {
        const line = await rig.gateway.waitForAccessLine(id);
        expect(outcome.logged).toContain(line.status);
      } else if ('cut' in outcome) {
        if (cell.fault === 'caller-stalls') {
          await until(() => record()?.cutShort === true, 'the gateway to give up on a caller that reads nothing');
          caller.socket.resume();
        }
        await caller.waitFor(() => caller.closed, 'the connection to close');
        expect(caller.final()).toMatchObject({ status: 200, complete: false });
        expect((await rig.gateway.waitForAccessLine(id)).status).toBe(200);
      } else {
        await caller.waitFor(() => caller.final()?.complete === true || caller.closed, 'the answer');
        const answer = caller.final();
        expect(answer?.status).toBe(outcome.status);
        expect(JSON.parse(answer!.body.toString())).toMatchObject({ code: PROBLEM_CODES[outcome.status], requestId: id });
        expect((await rig.gateway.waitForAccessLine(id)).status).toBe(outcome.status);
      }
      expect(rig.gateway.lines.filter((line) => line.includes(`"reqId":"${id}"`) && line.includes('"msg":"proxied"'))).toHaveLength(1);

      // Clean up after the cell, then check that the gateway is back where it was.
      caller.abort();
      for (const filler of fillers) filler.abort();
      if (cell.phase === 'token') rig.emulators.releaseHanging('oauth2');
      await quiet();
      expect(rig.gateway.alive()).toBe(true);
      await waitUntil(
        async () => (await ownDescriptors()) === baseline.descriptors,
        `the descriptors to be back to ${baseline.descriptors} (pooled idle connections aside)`,
      );
      expect(rig.gateway.rss() - baseline.rss).toBeLessThan(RSS_TOLERANCE);
    },
  );
});
