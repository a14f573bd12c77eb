import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags the gateway runs with however it is started (`npm start`, `node dist/…/main.js`, a
 * container's command): `main.ts` imports this module first, so it runs before any other module
 * is even evaluated.
 *
 * `--no-allocation-site-pretenuring`: after a burst of long-lived requests (a cold start under
 * 1,000 concurrent callers, a slow provider) V8 pretenures the allocation sites those requests
 * went through, and from then on the proxy's short-lived objects are allocated in the old
 * generation: scavenges keep what they point to alive, and GC costs more per request for the rest
 * of the process's life (`npm run bench`, "after the cold burst"). A pretenuring flag given
 * explicitly (command line or `NODE_OPTIONS`) is left as it is.
 */
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!given.some((arg) => arg.endsWith('allocation-site-pretenuring'))) setFlagsFromString('--no-allocation-site-pretenuring');
