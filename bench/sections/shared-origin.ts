import { DURATION_S, log, ms, SHARED_ORIGIN_RATE, TRICKLING_UPLOADS } from '../bench-context.js';
import type { LoadResult } from '../load.js';
import { loadOnce } from '../measure.js';
import { expectOk, startGateway, type Upstream } from '../targets.js';
import { trickleUploads } from '../trickling-uploads.js';

export interface SharedOriginResult {
  idle: LoadResult;
  held: LoadResult;
  /** Uploads still unanswered (so still holding their upstream connections) after the run. */
  stillHeld: number;
}

/**
 * Latency of requests for one provider (`acme`, GET …/echo at a fixed rate) while 128 uploads to
 * another provider on the same API origin (`prio`) trickle and hold their connections, next to the
 * same run with no upload: the uploads must not make the other provider's requests wait.
 */
export async function sharedOrigin(upstream: Upstream, headers: Record<string, string>): Promise<SharedOriginResult> {
  const { oauth2 } = upstream;
  const gateway = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-shared-origin',
    env: {
      OAUTH_PROVIDERS: 'acme',
      ACME_TOKEN_URL: oauth2.tokenUrl,
      ACME_API_URL: oauth2.apiUrl,
      ACME_CLIENT_ID: oauth2.clientId,
      ACME_CLIENT_SECRET: oauth2.clientSecret,
    },
  });
  try {
    const url = `${gateway.url}/acme/echo`;
    await expectOk('shared-origin gateway', url, headers);
    const fixed = { connections: 10, overallRate: SHARED_ORIGIN_RATE, duration: DURATION_S };
    await loadOnce(url, headers, { ...fixed, duration: 2 });
    const idle = await loadOnce(url, headers, fixed);
    const uploads = await trickleUploads(`${gateway.url}/prio/upload`, headers, TRICKLING_UPLOADS);
    const held = await loadOnce(url, headers, fixed);
    const stillHeld = uploads.unanswered();
    uploads.stop();
    log(
      `shared origin: idle p50 ${ms(idle.p50)} / p99 ${ms(idle.p99)} ms; with ${stillHeld} uploads held p50 ${ms(held.p50)} / p99 ${ms(held.p99)} ms, errors ${held.errors}, non-2xx ${held.non2xx}`,
    );
    return { idle, held, stillHeld };
  } finally {
    await gateway.stop();
  }
}
