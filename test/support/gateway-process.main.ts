// A gateway process for the suites that need a real one (fault matrix, fuzz, regressions): what
// main.ts runs, with options only a test sets (GATEWAY_TEST_OPTIONS, JSON: small pools, fast token
// retries), and the upstream pools' statistics answered on IPC. Run with ts-register.mjs.
import '../../apps/gateway/src/v8-flags.js';
import 'reflect-metadata';
import { runGateway } from '../../apps/gateway/src/gateway.runner.js';

const gateway = await runGateway(process.env, undefined, JSON.parse(process.env.GATEWAY_TEST_OPTIONS ?? '{}'));
if (gateway) {
  process.on('message', (message: { id: number }) => process.send?.({ id: message.id, stats: gateway.upstreamStats() }));
  // The test runner went away: stop as on SIGTERM rather than outlive it.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.send?.({ ready: gateway.url });
}
