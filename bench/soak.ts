import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { TokenService, type TokenObtainedEvent } from '@oauth-gateway/oauth-providers';
import { GATEWAY_PROVIDERS, gatewayEnv, startProviderEmulators } from '@oauth-gateway/provider-emulators';
import { createGateway } from '../apps/gateway/src/gateway.factory.js';
import { readOptions } from './cli-options.js';

/**
 * `npm run soak [-- --duration 60 --rate 200 --lifetime 5]`: the emulators issue tokens that live
 * `--lifetime` seconds; the gateway (default configuration: warm start, 60 s skew) runs in front of
 * them; steady traffic (`--rate` requests a second, spread over the six providers, at most 64 in
 * flight) runs for `--duration` seconds, loopback only. Prints how many upstream API calls arrived
 * with an expired (or otherwise refused) token, and how many requests waited on a token endpoint.
 * Exits 1 unless both are 0 and every request was answered 200.
 */

const API_KEY = 'soak-key-4c1d9e7a2b';
const MAX_IN_FLIGHT = 64;
const PROVIDERS = GATEWAY_PROVIDERS;

export const SOAK_USAGE = `Usage: npm run soak [-- --duration 60] [--rate 200] [--lifetime 5]

  --duration S   how long the traffic runs, in seconds (default 60)
  --rate N       requests a second, spread over the providers (default 200)
  --lifetime S   how long the emulators' tokens live, in seconds (default 5)`;

const options = readOptions(SOAK_USAGE, {
  duration: { type: 'number', default: 60 },
  rate: { type: 'number', default: 200 },
  lifetime: { type: 'number', default: 5 },
});
const DURATION_S = options.duration;
const RATE = options.rate;
const LIFETIME_S = options.lifetime;
const t0 = performance.now();
const log = (line: string) => process.stderr.write(`[soak ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);

async function main(): Promise<number> {
  const emulators = await startProviderEmulators();
  for (const [, emulated] of PROVIDERS) emulators.setTokenLifetime(emulated, LIFETIME_S);
  const gateway = await createGateway(
    { ...gatewayEnv(emulators), GATEWAY_API_KEYS: `${API_KEY}:*`, SANDBOX: 'false', LOG_LEVEL: 'warn' },
    { port: 0, host: '127.0.0.1' },
  );
  const tokens = gateway.app.get(TokenService);
  const pool = new Pool(gateway.url, { connections: MAX_IN_FLIGHT, pipelining: 1 });
  try {
    // Warm start (the gateway default): every provider has a token before traffic begins.
    const warmBy = Date.now() + 10_000;
    while (!tokens.status().every((s) => s.valid)) {
      if (Date.now() > warmBy) throw new Error('the providers did not all get a token within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    log(`gateway ${gateway.url}, emulators ${emulators.url}, ${LIFETIME_S} s tokens; ${RATE} req/s for ${DURATION_S} s`);

    const renewals = { background: 0, foreground: 0 };
    const onObtained = (e: TokenObtainedEvent) => (e.background ? renewals.background++ : renewals.foreground++);
    tokens.events.on('obtained', onObtained);
    const missesBefore = tokens.cacheCounters().reduce((n, c) => n + c.misses, 0);
    const tokenCallsBefore = PROVIDERS.map(([, e]) => emulators.tokenRequests(e).length);

    const byStatus = new Map<string, number>();
    let sent = 0;
    let skipped = 0;
    let inFlight = 0;
    const count = (key: string): void => {
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    };
    const fire = (i: number) => {
      const [provider] = PROVIDERS[i % PROVIDERS.length];
      inFlight++;
      return pool
        .request({ method: 'GET', path: `/${provider}/soak/${i}`, headers: { 'x-api-key': API_KEY } })
        .then(async (res) => {
          await res.body.dump();
          count(String(res.statusCode));
        })
        .catch((error: Error) => count(`error: ${error.message}`))
        .finally(() => inFlight--);
    };

    // A bounded loop: request i is due at i / RATE seconds; at most MAX_IN_FLIGHT outstanding.
    const pending = new Set<Promise<void>>();
    const start = performance.now();
    const total = Math.round(DURATION_S * RATE);
    let nextReport = 10_000;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight >= MAX_IN_FLIGHT) {
        skipped++;
        continue;
      }
      const p = fire(i);
      pending.add(p);
      void p.finally(() => pending.delete(p));
      sent++;
      if (performance.now() - start >= nextReport) {
        log(`${Math.round(nextReport / 1000)} s: ${sent} sent, ${renewals.background} background renewals`);
        nextReport += 10_000;
      }
    }
    await Promise.all(pending);
    const elapsedS = (performance.now() - start) / 1000;
    tokens.events.off('obtained', onObtained);

    const waited = tokens.cacheCounters().reduce((n, c) => n + c.misses, 0) - missesBefore;
    const apiCalls = PROVIDERS.reduce((n, [, e]) => n + emulators.apiRequests(e), 0);
    const expired = PROVIDERS.reduce((n, [, e]) => n + emulators.apiRejections(e), 0);
    const tokenCalls = PROVIDERS.map(([p, e], k) => `${p} ${emulators.tokenRequests(e).length - tokenCallsBefore[k]}`).join(', ');
    const ok = byStatus.get('200') ?? 0;
    const answers = [...byStatus.entries()].map(([status, n]) => `${status}: ${n}`).join(', ');

    const report = [
      `soak: ${elapsedS.toFixed(1)} s, ${LIFETIME_S} s tokens, ${sent} requests (${(sent / elapsedS).toFixed(0)}/s)${skipped ? `, ${skipped} skipped (${MAX_IN_FLIGHT} in flight)` : ''}`,
      `answers: ${answers}`,
      `upstream API calls: ${apiCalls}`,
      `upstream API calls with an expired token: ${expired}`,
      `requests that waited on a token endpoint: ${waited}`,
      `token renewals: ${renewals.background} in the background, ${renewals.foreground} on a request path`,
      `token endpoint calls: ${tokenCalls}`,
    ];
    process.stdout.write(`${report.join('\n')}\n`);
    const pass = expired === 0 && waited === 0 && ok === sent;
    process.stdout.write(pass ? 'PASS\n' : 'FAIL\n');
    return pass ? 0 : 1;
  } finally {
    await pool.close();
    await gateway.close();
    await emulators.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
