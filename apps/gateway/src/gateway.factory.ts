import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module.js';
import { ApiKeysReloader } from './auth/api-keys.reloader.js';
import { announceStarted } from './banner.js';
import type { GatewayConfig } from './config/gateway-config.js';
import type { OAuthOverrides } from './config/oauth-options.js';
import { withKeysFile } from './config/api-keys-file.loader.js';
import { parseGatewayConfig, type Env } from './config/parse-config.js';
import { sandboxWanted, startSandbox, type Sandbox } from './config/sandbox.js';
import { connectRedis } from './config/token-store.factory.js';
import { fastifyAdapter } from './fastify-adapter.js';
import { listen } from './listeners.js';
import { createLogs } from './logging/logger.js';
import { PinoNestLogger } from './logging/nest-logger.js';
import { GatewayServer } from './proxy/gateway-server.js';
import { ProxyHandler } from './proxy/proxy.handler.js';
import { Upstreams, type UpstreamStats } from './proxy/upstreams.js';
import { drain } from './shutdown/drain.js';
import { ShutdownState } from './shutdown/shutdown-state.js';
import type { ProxyTracing } from './tracing/tracing.js';

export interface GatewayOptions {
  /** Overrides `PORT` / `HOST` (tests listen on port 0 of the loopback). */
  port?: number;
  host?: string;
  /** Where log lines go (JSON); default stdout. Tests capture them. */
  logDestination?: DestinationStream;
  /** Where the sandbox banner goes; default stdout. It holds the dev API key, so it is not a log line. */
  banner?: (text: string) => void;
  oauth?: OAuthOverrides;
  /** Connections per upstream pool (default `CONNECTIONS_PER_POOL`); tests make it small to reach "waiting for a pool slot". */
  upstreamConnections?: number;
  /** Overrides `SHUTDOWN_TIMEOUT_MS`: how long `close()` lets in-flight requests finish before cutting their connections. */
  shutdownTimeoutMs?: number;
}

export interface Gateway {
  app: NestFastifyApplication;
  /** `http://host:port`, with a loopback address when bound to every interface. */
  url: string;
  /** The same for `ADMIN_PORT`, when set. */
  adminUrl?: string;
  config: GatewayConfig;
  sandbox?: Sandbox;
  logger: Logger;
  /** The upstream pools' statistics, summed (tests check that a fault leaves no request in a pool). */
  upstreamStats(): UpstreamStats;
  /**
   * Graceful stop: readiness turns 503 at once, serving goes on for `SHUTDOWN_DELAY_MS` (so that
   * load balancers see the gateway leave before it stops accepting), then it stops accepting, lets
   * in-flight requests finish (within `shutdownTimeoutMs`), then stops the refresher, closes the
   * token store (Redis) and the upstream pools. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Proxied requests admitted and not yet settled (what a forced exit cuts). */
  inFlight(): number;
  /** SIGHUP: reload `GATEWAY_API_KEYS_FILE` (without one, log that there is nothing to reload). */
  hangup(): void;
}

/**
 * Validates the environment, starts the sandbox when wanted, builds the Nest app (operator routes
 * and proxy) and listens; its `close()` drains it. Used by `main.ts` and by the e2e tests alike.
 * Throws `ConfigValidationError` before anything listens when the configuration is bad.
 */
export async function createGateway(env: Env, options: GatewayOptions = {}): Promise<Gateway> {
  let config = await withKeysFile(parseGatewayConfig(env));
  let sandbox: Sandbox | undefined;
  if (sandboxWanted(config)) ({ config, sandbox } = await startSandbox(config));
  let app: NestFastifyApplication | undefined;
  // One connection for tokens and rate limits, created here so that it is closed last.
  const redis = connectRedis(config);
  let tracing: ProxyTracing | undefined;
  try {
    const { logger, accessLog } = await createLogs({
      level: config.logLevel,
      production: config.production,
      destination: options.logDestination,
    });
    for (const warning of config.warnings ?? []) logger.warn(warning);
    if (sandbox && config.production) {
      logger.warn(
        { providers: sandbox.providers },
        'SANDBOX=true with NODE_ENV=production: these providers are answered by the embedded emulators, not the real ones',
      );
    }
    // Before Nest: the library's spans need the SDK registered when its first token request starts.
    if (config.tracing) {
      const { startTracing } = await import('./tracing/tracing-sdk.js');
      tracing = await startTracing(config.tracing);
    }
    // Made before Nest, since Fastify needs its server up front; it learns the app's routes as Fastify registers them.
    const server = new GatewayServer(config);
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forGateway({
        config,
        logger,
        oauth: options.oauth,
        redis,
        accessLog,
        upstreamConnections: options.upstreamConnections,
        tracing,
      }),
      fastifyAdapter(server),
      // Nest's start-up lines ("successfully started"...) are held until the port is ours: a gateway that cannot listen prints only why.
      { logger: new PinoNestLogger(logger), abortOnError: false, bufferLogs: true, autoFlushLogs: false },
    );
    await app.init();
    const started = app;
    const shutdown = started.get(ShutdownState);
    // Every request that is not the app's own goes to the proxy from now on.
    server.serve(started.get(ProxyHandler), shutdown);
    const listening = await listen(started, server, config, options.port ?? config.port, options.host ?? config.host);
    announceStarted(started, logger, config, listening, sandbox, options.banner);
    const { adminServer } = listening;
    const shutdownTimeoutMs = options.shutdownTimeoutMs ?? config.shutdownTimeoutMs;
    let closing: Promise<void> | undefined;
    const close = async () => {
      shutdown.begin();
      if (config.shutdownDelayMs > 0) {
        logger.info({ delayMs: config.shutdownDelayMs }, 'shutting down: readiness 503, still serving until the delay is over');
        await delay(config.shutdownDelayMs);
      }
      logger.info({ timeoutMs: shutdownTimeoutMs }, 'shutting down: no new connections, finishing in-flight requests');
      const draining = performance.now();
      let forced = await drain(started.getHttpServer(), shutdownTimeoutMs);
      // The admin port closes last: until the proxy's requests are done, probes there get readiness' 503.
      if (adminServer) forced = (await drain(adminServer, Math.max(0, shutdownTimeoutMs - (performance.now() - draining)))) || forced;
      const ms = Math.round(performance.now() - draining);
      if (forced) logger.warn({ ms }, 'shutdown bound reached: remaining connections cut');
      // Nest's hooks: the refresher stops, the token store (Redis) closes, the deadline sweeper and the upstream pools close.
      await started.close();
      await redis?.quit().catch(() => redis.disconnect());
      await sandbox?.emulators.close();
      await tracing?.shutdown();
      logger.info({ ms, forced }, 'gateway stopped');
      logger.flush();
    };
    return {
      app: started,
      url: listening.url,
      adminUrl: listening.adminUrl,
      config,
      sandbox,
      logger,
      upstreamStats: () => started.get(Upstreams).stats(),
      inFlight: () => started.get(Upstreams).inflight(),
      close: () => (closing ??= close()),
      hangup: () => {
        if (!shutdown.draining) started.get(ApiKeysReloader).hangup();
      },
    };
  } catch (error) {
    dropBufferedNestLogs();
    await app?.close().catch(() => undefined);
    redis?.disconnect();
    await sandbox?.emulators.close();
    await tracing?.shutdown();
    throw error;
  }
}

/** A gateway that failed to start says why in one line (the runner's); what Nest buffered is dropped. */
function dropBufferedNestLogs(): void {
  NestLogger.overrideLogger(false);
  NestLogger.flush();
}
