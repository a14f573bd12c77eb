// A gateway process for the suites that need a real one (fault matrix, caller keys, rate limits): what
// main.ts runs, with options only a test sets (GATEWAY_TEST_OPTIONS, JSON: small pools, fast token
// retries), log lines written as they come (not in batches: the suites wait for access lines), and
// the upstream pools' statistics answered on IPC. Run with ts-register.mjs.
import '../../apps/gateway/src/v8-flags.js';
import 'reflect-metadata';
import pino from 'pino';
import type { GatewayOptions } from '../../apps/gateway/src/gateway.factory.js';
import { runGateway } from '../../apps/gateway/src/gateway.runner.js';

const options = JSON.parse(process.env.GATEWAY_TEST_OPTIONS ?? '{}') as GatewayOptions;
const gateway = await runGateway(process.env, undefined, { ...options, logDestination: pino.destination({ sync: true }) });
if (gateway) {
  process.on('message', (message: { id: number }) => process.send?.({ id: message.id, stats: gateway.upstreamStats() }));
  // The test runner went away: stop as on SIGTERM rather than outlive it.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.send?.({ ready: gateway.url });
}
