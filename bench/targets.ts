import { type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prio, type TokenHttpClient } from '@oauth-gateway/oauth-providers';
import { API_KEY, GATEWAY_MAIN, script, tmp } from './bench-context.js';
import { freePort, LogPipe, nextMessage, spawnNode, stopChild, waitForHttp } from './children.js';

/** The processes the bench measures (the upstream emulator, the bare proxy, the Node peers, gateways) and how to start them. */

export interface Upstream {
  proc: ChildProcess;
  url: string;
  prio: { tokenUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  oauth2: { tokenUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  tokenRequests(): Promise<number>;
}

export async function startUpstream(): Promise<Upstream> {
  const proc = spawnNode(script('upstream.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage<{ ready: true; url: string; prio: Upstream['prio']; oauth2: Upstream['oauth2'] }>(
    proc,
    (m) => m.ready,
    15_000,
    'upstream emulator',
  );
  let id = 0;
  return {
    proc,
    url: ready.url,
    prio: ready.prio,
    oauth2: ready.oauth2,
    async tokenRequests() {
      const ask = ++id;
      const answer = nextMessage<{ id: number; count: number }>(proc, (m) => m.id === ask, 5000, 'upstream token count');
      proc.send({ id: ask, tokenRequests: 'prio' });
      return (await answer).count;
    },
  };
}

export async function startBareProxy(upstream: Upstream, authorization: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawnNode(script('bare-proxy.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, BARE_UPSTREAM: upstream.prio.apiUrl, BARE_HEADER: `authorization: ${authorization}` },
  });
  const ready = await nextMessage<{ ready: true; url: string }>(proc, (m) => m.ready, 10_000, 'bare proxy');
  return { proc, url: ready.url };
}

/** A Node peer of the gateway (bench/peers/), told its upstream and the fixed Authorization header it adds. */
export async function startPeer(file: string, upstream: Upstream, authorization: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawnNode(script(file), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PEER_UPSTREAM: upstream.prio.apiUrl, PEER_AUTHORIZATION: authorization },
  });
  const ready = await nextMessage<{ ready: true; url: string }>(proc, (m) => m.ready, 20_000, file);
  return { proc, url: ready.url };
}

export interface Gateway {
  proc: ChildProcess;
  url: string;
  logFile: string;
  /** With `logPipe`: the log lines read from its stdout (a named pipe) so far. */
  logLines(): number;
  startedAt: number;
  stop(): Promise<void>;
}

/** `node dist/apps/gateway/src/main.js` as in production, pointed at the upstream with PRIO_* variables. */
export async function startGateway(
  upstream: Upstream,
  opts: {
    logLevel: string;
    logPipe?: boolean;
    maxBodyBytes?: number;
    execArgv?: string[];
    name: string;
    warmOnStart?: boolean;
    keysFile?: string;
    env?: Record<string, string>;
    /** Another build's `dist/apps/gateway/src/main.js` (this checkout's by default). */
    main?: string;
  },
): Promise<Gateway> {
  const port = await freePort();
  const logFile = join(tmp, `${opts.name}.log`);
  const pipe = opts.logPipe ? new LogPipe(join(tmp, `${opts.name}.fifo`)) : undefined;
  const logFd = pipe ? pipe.openWriter() : openSync(logFile, 'w');
  let stderr = '';
  const startedAt = performance.now();
  const proc = spawnNode(opts.main ?? GATEWAY_MAIN, [], {
    execArgv: opts.execArgv,
    // A clean directory: main.ts would load a .env from its working directory.
    cwd: tmp,
    // Access lines go to a file, as a log shipper would take them, or to a pipe read as a container runtime reads it.
    stdio: ['ignore', logFd, 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: opts.logLevel,
      SANDBOX: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...(opts.keysFile === undefined ? { GATEWAY_API_KEYS: API_KEY } : { GATEWAY_API_KEYS_FILE: opts.keysFile }),
      PRIO_TOKEN_URL: upstream.prio.tokenUrl,
      PRIO_API_URL: upstream.prio.apiUrl,
      PRIO_CLIENT_ID: upstream.prio.clientId,
      PRIO_CLIENT_SECRET: upstream.prio.clientSecret,
      ...(opts.maxBodyBytes !== undefined && { MAX_BODY_BYTES: String(opts.maxBodyBytes) }),
      ...(opts.warmOnStart === false && { TOKEN_WARM_ON_START: 'false' }),
      ...opts.env,
    },
  });
  closeSync(logFd);
  proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc, 60_000, () => stderr);
  const stop = async () => {
    await stopChild(proc, 10_000);
    pipe?.close();
  };
  return { proc, url, logFile, logLines: () => pipe?.lines() ?? 0, startedAt, stop };
}

export async function expectOk(label: string, url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${label}: ${url} answered ${res.status} before the run: ${body.slice(0, 300)}`);
}

/** A token for the direct calls and the bare proxy, from the emulator's token endpoint. */
export async function directAuthorization(upstream: Upstream): Promise<string> {
  const http: TokenHttpClient = {
    post: async (_provider, req) => {
      const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(5000) });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    },
  };
  const grant = await prio({
    tokenUrl: upstream.prio.tokenUrl,
    clientId: upstream.prio.clientId,
    clientSecret: upstream.prio.clientSecret,
  }).requestToken({ http });
  return `Bearer ${grant.accessToken}`;
}

export function countLines(file: string, needle: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}
