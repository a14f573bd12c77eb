import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags the gateway runs with however it is started (`npm start`, `node dist/…/main.js`, a
 * container's command): `main.ts` imports this module first, so it runs before any other module
 * is even evaluated.
 *
 * `--no-allocation-site-pretenuring`: after a burst of long-lived requests (a cold start under
 * many concurrent callers, a slow provider) V8 would pretenure the allocation sites those requests
 * went through, allocating the proxy's short-lived objects in the old generation and making GC cost
 * more per request for the rest of the process's life (`npm run bench` measures both). A
 * pretenuring flag given explicitly (command line or `NODE_OPTIONS`) is left as it is.
 */
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!given.some((arg) => arg.endsWith('allocation-site-pretenuring'))) setFlagsFromString('--no-allocation-site-pretenuring');
