// One gateway instance in its own OS process, for the cross-process single-flight test. Run by
// token.service.cluster.spec.ts through `node --import ./ts-register.mjs` (sources compiled
// on the fly); talks to the test over the IPC channel: `ready` → `go` → `result`.
import { resolveOptions } from '../src/oauth.options.js';
import { RedisTokenStore } from '../src/stores/redis-token.store.js';
import { TokenService } from '../src/token/token.service.js';
import { countingStrategy } from './counting-token-server.js';
import { axiosTokenHttpClient } from './strategy-context.js';
import { connectRedis } from './redis-test-helpers.js';

export interface ClusterWorkerConfig {
  redisUrl: string;
  tokenUrl: string;
  provider: string;
  encryptionKey: string;
  /** Concurrent getToken calls this process makes on `go`. */
  callers: number;
}

export type ClusterWorkerMessage = { type: 'ready' } | { type: 'result'; accessTokens: string[] } | { type: 'error'; message: string };

const send = (message: ClusterWorkerMessage) => process.send!(message);
const config = JSON.parse(process.argv[2]) as ClusterWorkerConfig;

const redis = await connectRedis(config.redisUrl);
const store = new RedisTokenStore(redis, { encryptionKey: config.encryptionKey });
const service = new TokenService(resolveOptions({ providers: [] }), store, axiosTokenHttpClient());
service.register(countingStrategy(config.tokenUrl, config.provider));

async function go(): Promise<void> {
  try {
    const tokens = await Promise.all(Array.from({ length: config.callers }, () => service.getToken(config.provider)));
    send({ type: 'result', accessTokens: [...new Set(tokens.map((t) => t.accessToken))] });
  } catch (error) {
    send({ type: 'error', message: String(error) });
  } finally {
    await store.close();
    redis.disconnect();
    process.disconnect();
  }
}

process.once('message', () => void go());
send({ type: 'ready' });
