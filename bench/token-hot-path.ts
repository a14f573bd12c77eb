import { performance } from 'node:perf_hooks';
import { InMemoryTokenStore, resolveOptions, TokenService, type TokenStore, type TokenStrategy } from '#oauth-providers';

/** A strategy that never needs the network after the first token: the hot path is all we measure. */
const strategy: TokenStrategy = {
  name: 'bench',
  identity: 'bench',
  requestToken: async () => ({ accessToken: 'bench-token', expiresIn: 3600 }),
};

const noHttp = { post: () => Promise.reject(new Error('unused')) };

/** `await tokens.getToken()` on a warm cache, ops/s over `durationMs` after a warm-up. */
export async function measureGetToken(store: TokenStore, durationMs = 1500): Promise<number> {
  const tokens = new TokenService(resolveOptions({ providers: [] }), store, noHttp);
  tokens.register(strategy);
  await tokens.getToken('bench');
  const run = async (ms: number) => {
    let ops = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 10_000; i++) await tokens.getToken('bench');
      ops += 10_000;
    }
    return ops;
  };
  await run(300);
  const started = performance.now();
  const ops = await run(durationMs);
  return Math.round(ops / ((performance.now() - started) / 1000));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`getToken (in-memory): ${(await measureGetToken(new InMemoryTokenStore())).toLocaleString()} ops/s`);
}
