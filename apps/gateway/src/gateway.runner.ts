import type { EventEmitter } from 'node:events';
import { ConfigValidationError, type Env } from './config/parse-config.js';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.factory.js';

export interface RunnerIo {
  exit(code: number): void;
  /** One line to stderr. */
  error(line: string): void;
  /** Where SIGTERM / SIGINT / SIGHUP come from; default `process`. */
  signals?: Pick<EventEmitter, 'once' | 'on' | 'off'>;
  /** Milliseconds from a monotonic clock; default `performance.now`. */
  now?: () => number;
  /** A signal that came before the runner's handlers were installed (while the modules loaded). */
  earlySignal?: () => string | undefined;
}

export const processIo: RunnerIo = {
  exit: (code) => process.exit(code),
  error: (line) => process.stderr.write(`${line}\n`),
};

/**
 * A signal sent to a process group (Ctrl-C, `kill %1`, systemd's default KillMode) reaches the gateway
 * directly and again through npm within milliseconds: a repeat that close is that one signal, not an
 * operator's second one asking to stop at once.
 */
export const REPEATED_SIGNAL_MS = 500;

/** After the drain bound, the rest of the stop (Redis, pools) gets this long before the process exits anyway. */
const CLOSE_GRACE_MS = 5_000;

/**
 * What `main.ts` does: start the gateway from the environment, or print why not and exit 1.
 * On SIGTERM / SIGINT: readiness turns 503 while the gateway keeps serving for `SHUTDOWN_DELAY_MS`,
 * then it stops accepting, lets in-flight requests finish within `SHUTDOWN_TIMEOUT_MS` (then the
 * connections left are cut), stops the refresher, closes Redis, exits 0 (1 if closing failed or
 * took more than `CLOSE_GRACE_MS` past the bound). A signal before the gateway listens ends
 * start-up: one line, exit 0. A second signal (`REPEATED_SIGNAL_MS` or more after the first) exits
 * 1 at once, after one line saying how many requests it cuts: handled here, since as PID 1 in a
 * container a signal without a handler is ignored, not fatal. SIGHUP reloads
 * `GATEWAY_API_KEYS_FILE` (without one it is logged and ignored, never Node's default: exit).
 */
export async function runGateway(env: Env, io: RunnerIo = processIo, options: GatewayOptions = {}): Promise<Gateway | undefined> {
  const signals = io.signals ?? process;
  const now = io.now ?? (() => performance.now());
  let gateway: Gateway | undefined;
  let firstSignalAt: number | undefined;
  const onSignal = (signal: string) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = now();
      if (gateway) return stop(gateway, io, options);
      io.error(`${signal} during start-up: the gateway stops before serving`);
      return io.exit(0);
    }
    if (!gateway || now() - firstSignalAt < REPEATED_SIGNAL_MS) return;
    gateway.logger.warn({ signal, cut: gateway.inFlight() }, 'second signal: exiting at once, in-flight requests cut');
    gateway.logger.flush();
    io.exit(1);
  };
  // Installed before start-up, so that a signal then is an orderly stop rather than Node's default.
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  const hangUp = () => gateway?.hangup();
  signals.on('SIGTERM', onTerm).on('SIGINT', onInt).on('SIGHUP', hangUp);
  const early = io.earlySignal?.();
  if (early) {
    signals.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', hangUp);
    onSignal(early);
    return undefined;
  }
  try {
    gateway = await createGateway(env, options);
  } catch (error) {
    signals.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', hangUp);
    if (firstSignalAt !== undefined) return undefined;
    if (error instanceof ConfigValidationError) {
      io.error('Invalid configuration:');
      for (const problem of error.problems) io.error(`  ${problem}`);
      if (error.warnings.length > 0) io.error('Warnings:');
      for (const warning of error.warnings) io.error(`  ${warning}`);
    } else {
      // The message only: a stack or a cause may carry configuration values.
      io.error(`The gateway could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    io.exit(1);
    return undefined;
  }
  const close = gateway.close.bind(gateway);
  gateway.close = () => close().finally(() => signals.off('SIGHUP', hangUp));
  if (firstSignalAt === undefined) return gateway;
  // Stopped during start-up (where exiting does not end the process, as in tests): nothing may keep running.
  await gateway.close();
  return undefined;
}

function stop(gateway: Gateway, io: RunnerIo, options: GatewayOptions): void {
  const { shutdownDelayMs, shutdownTimeoutMs } = gateway.config;
  const hard = setTimeout(() => io.exit(1), shutdownDelayMs + (options.shutdownTimeoutMs ?? shutdownTimeoutMs) + CLOSE_GRACE_MS).unref();
  void gateway
    .close()
    .then(
      () => io.exit(0),
      () => io.exit(1),
    )
    .finally(() => clearTimeout(hard));
}
