import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mergeAccounts } from './emulator-credentials.js';
import type {
  EmulatedEndpoint,
  EmulatorAccount,
  EmulatorCredentials,
  ProviderEmulator,
  ProviderEmulators,
  StartProviderEmulatorsOptions,
} from './emulator.types.js';
import { MountedEndpoint } from './emulated-endpoint.js';
import { sendJson } from './http-answer.js';
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

/**
 * Starts one plain `node:http` server on which every provider's token endpoint and API is mounted
 * (wire formats: docs/providers.md). Used by tests, by the gateway's sandbox mode and as the benchmark
 * upstream, hence no framework and keep-alive on.
 */
export async function startProviderEmulators(opts: StartProviderEmulatorsOptions = {}): Promise<ProviderEmulators> {
  const accounts = mergeAccounts(opts.credentials);
  const credentials = Object.fromEntries(Object.entries(accounts).map(([name, sets]) => [name, sets[0]])) as unknown as EmulatorCredentials;
  const timers = new Set<NodeJS.Timeout>();
  const mounted = new Map<EmulatedEndpoint, MountedEndpoint>();
  const byTokenPath = new Map<string, MountedEndpoint>();
  for (const name of Object.keys(EMULATORS) as EmulatedEndpoint[]) {
    const endpoint = new MountedEndpoint(name, EMULATORS[name], accounts[name], opts.now ?? Date.now, timers);
    mounted.set(name, endpoint);
    byTokenPath.set(endpoint.tokenPath, endpoint);
  }
  let baseUrl = '';

  const server = createServer((req, res) => {
    if (opts.keepAlive === false) res.setHeader('connection', 'close');
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 ? '' : raw.slice(q + 1);
    const tokenEndpoint = byTokenPath.get(path);
    const apiEndpoint = tokenEndpoint ? undefined : mounted.get((path.split('/')[1] ?? '') as EmulatedEndpoint);
    const served = tokenEndpoint
      ? tokenEndpoint.serveToken(path, `${baseUrl}${path}`, req, res)
      : apiEndpoint?.ownsApiPath(path)
        ? apiEndpoint.serveApi(path, query, req, res)
        : Promise.resolve(sendJson(res, 404, { error: 'not_found', path }));
    served.catch(() => {
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

  const endpoint = (p: EmulatedEndpoint): MountedEndpoint => {
    const found = mounted.get(p);
    if (!found) throw new Error(`No emulated provider named "${p}"`);
    return found;
  };

  return {
    url: baseUrl,
    credentials,
    accounts: <P extends EmulatedEndpoint>(p: P) => endpoint(p).accounts as ReadonlyArray<EmulatorAccount<P>>,
    tokenOwner: <P extends EmulatedEndpoint>(p: P, token: string) => endpoint(p).tokenOwner(token) as EmulatorAccount<P> | undefined,
    tokenUrl: (p) => `${baseUrl}${endpoint(p).tokenPath}`,
    apiUrl: (p) => `${baseUrl}${endpoint(p).apiBase}`,
    tokenRequests: (p) => endpoint(p).tokenRequests(),
    apiRequests: (p) => endpoint(p).apiRequests(),
    apiRejections: (p) => endpoint(p).apiRejections(),
    failTokenEndpoint: (p, mode) => endpoint(p).fail(mode),
    clearFailures(p) {
      for (const e of p ? [endpoint(p)] : mounted.values()) e.clearFailure();
    },
    setTokenLifetime: (p, expiresIn) => endpoint(p).setTokenLifetime(expiresIn),
    downloads: (p) => endpoint(p).downloads(),
    hangingRequests: (p) => endpoint(p).hangingRequests(),
    releaseHanging: (p) => endpoint(p).releaseHanging(),
    revokeTokens: (p) => endpoint(p).revokeTokens(),
    revokeRefreshTokens: (p) => endpoint(p).revokeRefreshTokens(),
    reset() {
      for (const e of mounted.values()) e.reset();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const e of mounted.values()) e.destroyHanging();
      server.closeAllConnections();
      await closed;
    },
  };
}
