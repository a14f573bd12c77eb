import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { performance } from 'node:perf_hooks';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module.js';
import { ApiKeysReloader } from './auth/api-keys.reloader.js';
import type { GatewayConfig } from './config/gateway-config.js';
import type { OAuthOverrides } from './config/oauth-options.js';
import { withKeysFile } from './config/api-keys-file.loader.js';
import { parseGatewayConfig, type Env } from './config/parse-config.js';
import { sandboxBanner, sandboxWanted, startSandbox, type Sandbox } from './config/sandbox.js';
import { connectRedis } from './config/token-store.factory.js';
import { ShutdownState } from './health/shutdown-state.js';
import { createLogs } from './logging/logger.js';
import { PinoNestLogger } from './logging/nest-logger.js';
import { ProblemError, problemForStatus, type ProblemCode } from './problem/problem.js';
import { replyProblem } from './problem/problem.filter.js';
import { GatewayServer } from './proxy/gateway-server.js';
import { Upstreams, type UpstreamStats } from './proxy/upstreams.js';

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
   * Graceful stop: stops accepting connections at once, lets in-flight requests finish (within
   * `shutdownTimeoutMs`), then stops the refresher, closes the token store (Redis) and the
   * upstream pools. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** SIGHUP: reload `GATEWAY_API_KEYS_FILE` (without one, log that there is nothing to reload). */
  hangup(): void;
}

/**
 * Validates the environment, starts the sandbox when wanted, builds the Nest app (operator routes
 * and proxy) and listens. Used by `main.ts` and by the e2e tests alike. Throws `ConfigValidationError`
 * before anything listens when the configuration is bad.
 */
export async function createGateway(env: Env, options: GatewayOptions = {}): Promise<Gateway> {
  let config = await withKeysFile(parseGatewayConfig(env));
  let sandbox: Sandbox | undefined;
  if (sandboxWanted(config)) ({ config, sandbox } = await startSandbox(config));
  let app: NestFastifyApplication | undefined;
  let admin: Server | undefined;
  // One connection for tokens and rate limits, created here so that it is closed last.
  const redis = connectRedis(config);
  try {
    const { logger, accessLog } = await createLogs({
      level: config.logLevel,
      production: config.production,
      destination: options.logDestination,
    });
    if (sandbox && config.production) {
      logger.warn(
        { providers: sandbox.providers },
        'SANDBOX=true with NODE_ENV=production: these providers are answered by the embedded emulators, not the real ones',
      );
    }
    const server = new GatewayServer(config);
    const adapter = new FastifyAdapter({
      serverFactory: server.serverFactory,
      logger: false,
      requestIdHeader: false,
      // The router's own 400/414 (malformed URL...) as problems too.
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const code: ProblemCode = error.code === 'FST_ERR_BAD_URL' ? 'invalid_path' : problemForStatus(error.statusCode ?? 400);
        replyProblem(request, reply, new ProblemError(code));
      },
      clientErrorHandler: server.clientError,
    });
    adapter.getInstance().addHook('onRoute', ({ method, url }) => server.addOwnRoute(method, url));
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forGateway({
        config,
        logger,
        oauth: options.oauth,
        redis,
        server,
        accessLog,
        upstreamConnections: options.upstreamConnections,
      }),
      adapter,
      // Nest's start-up lines ("successfully started"...) are held until the port is ours: a gateway that cannot listen prints only why.
      { logger: new PinoNestLogger(logger), abortOnError: false, bufferLogs: true, autoFlushLogs: false },
    );
    await app.init();
    const started = app;
    const host = options.host ?? config.host;
    const port = options.port ?? config.port;
    // The operator routes are on their own server first, so that the proxy's never serves them.
    const adminServer = config.adminPort === undefined ? undefined : (admin = server.adminServer());
    if (adminServer) await listening(adminServer, config.adminPort!, config.adminHost ?? host, 'ADMIN_PORT', 'ADMIN_HOST');
    await listening(started.getHttpServer(), port, host, 'PORT', 'HOST', () => started.listen(port, host));
    started.flushLogs();
    const url = displayUrl(started.getHttpServer().address() as AddressInfo);
    const adminUrl = adminServer && displayUrl(adminServer.address() as AddressInfo);
    logger.info({ url, adminUrl, providers: config.providers.map((p) => p.name), sandbox: sandbox !== undefined }, 'gateway listening');
    started.get(ApiKeysReloader).announce();
    if (sandbox) (options.banner ?? ((text) => process.stdout.write(`${text}\n`)))(sandboxBanner(sandbox, url));
    const shutdown = started.get(ShutdownState);
    const shutdownTimeoutMs = options.shutdownTimeoutMs ?? config.shutdownTimeoutMs;
    let closing: Promise<void> | undefined;
    const close = async () => {
      shutdown.draining = true;
      const http = started.getHttpServer();
      logger.info({ timeoutMs: shutdownTimeoutMs }, 'shutting down: no new connections, finishing in-flight requests');
      const draining = performance.now();
      let forced = await drain(http, shutdownTimeoutMs);
      // The admin port closes last: until the proxy's requests are done, probes there get readiness' 503.
      if (adminServer) forced = (await drain(adminServer, Math.max(0, shutdownTimeoutMs - (performance.now() - draining)))) || forced;
      const ms = Math.round(performance.now() - draining);
      if (forced) logger.warn({ ms }, 'shutdown bound reached: remaining connections cut');
      // Nest's hooks: the refresher stops, the token store (Redis) closes, the deadline sweeper and the upstream pools close.
      await started.close();
      await redis?.quit().catch(() => redis.disconnect());
      await sandbox?.emulators.close();
      logger.info({ ms, forced }, 'gateway stopped');
      logger.flush();
    };
    return {
      app: started,
      url,
      adminUrl,
      config,
      sandbox,
      logger,
      upstreamStats: () => started.get(Upstreams).stats(),
      close: () => (closing ??= close()),
      hangup: () => {
        if (!shutdown.draining) started.get(ApiKeysReloader).hangup();
      },
    };
  } catch (error) {
    dropBufferedNestLogs();
    if (admin?.listening) await new Promise((resolve) => admin!.close(resolve));
    await app?.close().catch(() => undefined);
    redis?.disconnect();
    await sandbox?.emulators.close();
    throw error;
  }
}

/** Listens (`listen`: how, default `server.listen`); a port that cannot be had is one plain sentence naming the variables to set. */
async function listening(
  server: Server,
  port: number,
  host: string,
  portName: string,
  hostName: string,
  listen?: () => Promise<unknown>,
): Promise<void> {
  try {
    await (listen?.() ?? new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve())));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${host}:${port} is already in use (set ${portName}, or ${hostName}, to a free one)`);
    if (code === 'EACCES') throw new Error(`${host}:${port} needs privileges this process does not have (set ${portName} above 1023)`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`${host} is not an address of this machine (set ${hostName})`);
    throw error;
  }
}

/** A gateway that failed to start says why in one line (the runner's); what Nest buffered is dropped. */
function dropBufferedNestLogs(): void {
  NestLogger.overrideLogger(false);
  NestLogger.flush();
}

/**
 * Stops listening (new connections are refused), closes idle kept-alive connections as soon as
 * their request is done (Node only closes those idle at the moment `close()` is called), and
 * after `boundMs` cuts whatever is left; true when it had to.
 */
function drain(server: Server, boundMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let forced = false;
    const sweep = setInterval(() => server.closeIdleConnections(), 20);
    const bound = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, boundMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(bound);
      resolve(forced);
    });
  });
}

function displayUrl({ address, port }: AddressInfo): string {
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}
