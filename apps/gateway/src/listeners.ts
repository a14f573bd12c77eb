import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config/gateway-config.js';
import { capConnections } from './http/connection-cap.js';
import type { GatewayServer } from './proxy/gateway-server.js';

/** Where a started gateway listens. */
export interface Listening {
  /** `http://host:port`, with a loopback address when bound to every interface (what this machine can call). */
  url: string;
  /** The address really bound, `0.0.0.0:3000` when that is every interface. */
  address: string;
  /** The same for `ADMIN_PORT`, when set. */
  adminUrl?: string;
  adminAddress?: string;
  /** `ADMIN_PORT`'s server, when set. */
  adminServer?: Server;
}

/**
 * Listens on `ADMIN_PORT` (when set), then on `PORT`: the operator routes are on their own server
 * first, so that the proxy's never serves them. If `PORT` cannot be had, the admin server is closed again.
 * `PORT`'s callers are capped at `MAX_CONNECTIONS`; the admin port, for probes and scrapers, is not.
 */
export async function listen(
  app: NestFastifyApplication,
  server: GatewayServer,
  config: Pick<GatewayConfig, 'adminPort' | 'adminHost' | 'maxConnections'>,
  port: number,
  host: string,
): Promise<Listening> {
  const adminServer = config.adminPort === undefined ? undefined : server.adminServer();
  // Without ADMIN_HOST the admin port takes HOST's value: a name that does not resolve is HOST's.
  const given = config.adminHost === undefined ? 'HOST' : 'ADMIN_HOST';
  if (adminServer) await listening(adminServer, config.adminPort!, config.adminHost ?? host, 'ADMIN_PORT', 'ADMIN_HOST', undefined, given);
  capConnections(app.getHttpServer(), config.maxConnections);
  try {
    await listening(app.getHttpServer(), port, host, 'PORT', 'HOST', () => app.listen(port, host));
  } catch (error) {
    if (adminServer) await new Promise((resolve) => adminServer.close(resolve));
    throw error;
  }
  const bound = app.getHttpServer().address() as AddressInfo;
  const adminBound = adminServer?.address() as AddressInfo | undefined;
  return {
    url: displayUrl(bound),
    address: hostPort(bound),
    adminUrl: adminBound && displayUrl(adminBound),
    adminAddress: adminBound && hostPort(adminBound),
    adminServer,
  };
}

/** Listens (`listen`: how, default `server.listen`); a port that cannot be had is one plain sentence naming the variables to set. */
async function listening(
  server: Server,
  port: number,
  host: string,
  portName: string,
  hostName: string,
  listen?: () => Promise<unknown>,
  /** The variable that holds `host` as given. */
  hostGiven = hostName,
): Promise<void> {
  try {
    await (listen?.() ?? new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve())));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${host}:${port} is already in use (set ${portName}, or ${hostName}, to a free one)`);
    if (code === 'EACCES') throw new Error(`${host}:${port} needs privileges this process does not have (set ${portName} above 1023)`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`${host} is not an address of this machine (set ${hostName})`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      throw new Error(`${hostGiven}: ${host} does not resolve to an address (getaddrinfo ${code})`);
    throw error;
  }
}

function displayUrl({ address, port }: AddressInfo): string {
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return `http://${hostPort({ address, port })}`;
}

const hostPort = ({ address, port }: Pick<AddressInfo, 'address' | 'port'>) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
