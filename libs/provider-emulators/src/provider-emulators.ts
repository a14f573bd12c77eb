import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveApi, sendJson } from './api-routes.js';
import { mergeCredentials } from './emulator-credentials.js';
import { opaqueToken, wafPage } from './emulator-wire.js';
import type {
  Answer,
  DownloadRecord,
  EmulatedEndpoint,
  EmulatorCredentials,
  FailureMode,
  ProviderEmulator,
  ProviderEmulators,
  StartProviderEmulatorsOptions,
  TokenIssuer,
  TokenRequestRecord,
} from './emulator.types.js';
import { IssuedTokens } from './issued-tokens.js';
import { latamEmulator } from './providers/latam.emulator.js';
import { oauth2Emulator } from './providers/oauth2.emulator.js';
import { paymeEmulator } from './providers/payme.emulator.js';
import { prioEmulator } from './providers/prio.emulator.js';
import { sabreEmulator } from './providers/sabre.emulator.js';
import { transatelEmulator } from './providers/transatel.emulator.js';

const EMULATORS: { [P in EmulatedEndpoint]: ProviderEmulator<P> } = {
  latam: latamEmulator,
  transatel: transatelEmulator,
  payme: paymeEmulator,
  prio: prioEmulator,
  sabre: sabreEmulator,
  oauth2: oauth2Emulator,
};

/** Token requests are small; a larger body is refused before it is buffered. */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

const MAINTENANCE_PAGE =
  '<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head><body><h1>We will be back soon</h1></body></html>';

interface EndpointState {
  readonly name: EmulatedEndpoint;
  readonly emulator: ProviderEmulator;
  readonly credentials: EmulatorCredentials[EmulatedEndpoint];
  readonly issuer: TokenIssuer;
  tokens: IssuedTokens;
  records: TokenRequestRecord[];
  apiCount: number;
  /** API requests refused for their token (unknown, expired or revoked). */
  apiRejected: number;
  downloads: DownloadRecord[];
  failure?: { mode: FailureMode; left: number };
  /** Set by `setTokenLifetime`; `{ value: undefined }` means "omit expires_in". */
  lifetime?: { value: unknown };
}

/**
 * Starts one plain `node:http` server emulating every provider's token endpoint and API
 * (wire formats: docs/providers.md). Used by tests, by the gateway's sandbox mode and as the benchmark
 * upstream, hence no framework and keep-alive on.
 */
export async function startProviderEmulators(opts: StartProviderEmulatorsOptions = {}): Promise<ProviderEmulators> {
  const now = opts.now ?? Date.now;
  const credentials = mergeCredentials(opts.credentials);
  const states = new Map<EmulatedEndpoint, EndpointState>();
  const byTokenPath = new Map<string, EndpointState>();
  for (const name of Object.keys(EMULATORS) as EmulatedEndpoint[]) {
    const state: EndpointState = {
      name,
      emulator: EMULATORS[name],
      credentials: credentials[name],
      tokens: new IssuedTokens(now),
      records: [],
      apiCount: 0,
      apiRejected: 0,
      downloads: [],
      issuer: {
        issue: () => {
          const token = opaqueToken(state.emulator.tokenShape);
          const expiresIn = state.lifetime ? state.lifetime.value : state.emulator.defaultExpiresIn;
          state.tokens.addAccess(token, expiresIn);
          return expiresIn === undefined ? { access_token: token } : { access_token: token, expires_in: expiresIn };
        },
        issueRefreshToken: () => {
          const token = opaqueToken();
          state.tokens.addRefresh(token);
          return token;
        },
        knowsRefreshToken: (token) => state.tokens.hasRefresh(token),
      },
    };
    states.set(name, state);
    byTokenPath.set(state.emulator.tokenPath, state);
  }

  /** Token requests held by a `hang` failure, with what answers them when released. */
  const hanging = new Map<ServerResponse, { endpoint: EmulatedEndpoint; answer: () => void }>();
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = '';

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 ? '' : raw.slice(q + 1);
    const tokenEndpoint = byTokenPath.get(path);
    if (tokenEndpoint) return serveToken(tokenEndpoint, path, req, res);
    const segment = path.split('/')[1] ?? '';
    const state = states.get(segment as EmulatedEndpoint);
    const apiBase = `/${segment}/api`;
    if (state && (path === apiBase || path.startsWith(`${apiBase}/`))) {
      state.apiCount++;
      const refusal = state.emulator.authorizeApi(req.headers, state.credentials, (token) => state.tokens.isValid(token));
      if (refusal) {
        state.apiRejected++;
        return send(res, refusal);
      }
      return serveApi(state.name, path.slice(apiBase.length), query, req, res, { timers, downloads: state.downloads });
    }
    sendJson(res, 404, { error: 'not_found', path });
  }

  async function serveToken(state: EndpointState, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readSmallBody(req);
    if (body === undefined) return sendJson(res, 413, { error: 'payload_too_large' });
    const received = { method: req.method ?? 'GET', path, headers: req.headers, body };
    state.records.push({ ...received, headers: { ...req.headers }, at: now() });
    const failure = state.failure;
    if (failure) {
      if (--failure.left <= 0) state.failure = undefined;
      if (failure.mode.kind === 'hang') {
        hanging.set(res, {
          endpoint: state.name,
          // Released: answered as the endpoint would answer now (a failure still set, else a token).
          answer: () => {
            const now = state.failure;
            if (now && now.mode.kind !== 'hang') {
              if (--now.left <= 0) state.failure = undefined;
              return send(res, failureAnswer(state.emulator, now.mode, `${baseUrl}${path}`));
            }
            send(res, state.emulator.token(received, state.credentials, state.issuer));
          },
        });
        res.on('close', () => hanging.delete(res));
        return;
      }
      return send(res, failureAnswer(state.emulator, failure.mode, `${baseUrl}${path}`));
    }
    send(res, state.emulator.token(received, state.credentials, state.issuer));
  }

  const server = createServer((req, res) => {
    if (opts.keepAlive === false) res.setHeader('connection', 'close');
    route(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'emulator_error' });
    });
  });
  // Clients (the gateway, benchmarks) keep connections open: outlive their idle timeouts.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${publicHost}:${port}`;

  const state = (p: EmulatedEndpoint): EndpointState => {
    const found = states.get(p);
    if (!found) throw new Error(`No emulated provider named "${p}"`);
    return found;
  };

  return {
    url: baseUrl,
    credentials,
    tokenUrl: (p) => `${baseUrl}${state(p).emulator.tokenPath}`,
    apiUrl: (p) => `${baseUrl}/${state(p).name}/api`,
    tokenRequests: (p) => [...state(p).records],
    apiRequests: (p) => state(p).apiCount,
    apiRejections: (p) => state(p).apiRejected,
    failTokenEndpoint(p, mode) {
      if (mode.times !== undefined && !(Number.isInteger(mode.times) && mode.times > 0)) {
        throw new Error(`failTokenEndpoint: times must be a positive integer, got ${mode.times}`);
      }
      state(p).failure = { mode, left: mode.times ?? Infinity };
    },
    clearFailures(p) {
      for (const s of p ? [state(p)] : states.values()) s.failure = undefined;
    },
    setTokenLifetime(p, expiresIn) {
      state(p).lifetime = { value: expiresIn };
    },
    downloads: (p) => state(p).downloads,
    hangingRequests: (p) => [...hanging.values()].filter((h) => h.endpoint === state(p).name).length,
    releaseHanging(p) {
      for (const [res, held] of [...hanging]) {
        if (held.endpoint !== state(p).name) continue;
        hanging.delete(res);
        if (!res.destroyed) held.answer();
      }
    },
    revokeTokens: (p) => state(p).tokens.revokeAccess(),
    revokeRefreshTokens: (p) => state(p).tokens.revokeRefresh(),
    reset() {
      for (const s of states.values()) {
        s.tokens = new IssuedTokens(now);
        s.records = [];
        s.apiCount = 0;
        s.apiRejected = 0;
        s.downloads = [];
        s.failure = undefined;
        s.lifetime = undefined;
      }
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of hanging.keys()) res.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

function failureAnswer(emulator: ProviderEmulator, mode: Exclude<FailureMode, { kind: 'hang' }>, url: string): Answer {
  switch (mode.kind) {
    case 'status':
      return emulator.failure(mode.status);
    case 'rate_limit': {
      const answer = emulator.failure(429);
      if (mode.retryAfterSeconds === undefined) return answer;
      return { ...answer, headers: { ...answer.headers, 'retry-after': String(mode.retryAfterSeconds) } };
    }
    case 'garbage':
      return {
        status: mode.status ?? 200,
        headers: { 'content-type': mode.contentType ?? 'text/html; charset=utf-8' },
        body: mode.body ?? MAINTENANCE_PAGE,
      };
    case 'waf':
      return wafPage(url);
  }
}

function send(res: ServerResponse, answer: Answer): void {
  // No body may follow these statuses (RFC 9110 §6.4.1), whatever a failure mode asked for.
  if (answer.status === 204 || answer.status === 304) {
    res.writeHead(answer.status, answer.headers).end();
    return;
  }
  const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The whole body as UTF-8, or undefined past `MAX_TOKEN_BODY_BYTES`. */
async function readSmallBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TOKEN_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
