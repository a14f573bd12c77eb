import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { ApiKeysReloader } from './auth/api-keys.reloader.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { sandboxBanner, type Sandbox } from './config/sandbox.js';
import type { Listening } from './listeners.js';

const toStdout = (text: string) => void process.stdout.write(`${text}\n`);

/**
 * What a gateway says once its ports are its own (one that cannot listen says only why): Nest's
 * held start-up lines, where it listens, its keys and, in sandbox mode, the banner, which holds the
 * dev API key and so goes to stdout (or `print`) rather than to the logs.
 */
export function announceStarted(
  app: NestFastifyApplication,
  logger: Logger,
  config: Pick<GatewayConfig, 'providers'>,
  { url, address, adminUrl, adminAddress }: Listening,
  sandbox: Sandbox | undefined,
  print: (text: string) => void = toStdout,
): void {
  app.flushLogs();
  logger.info(
    { address, url, adminAddress, adminUrl, providers: config.providers.map((p) => p.name), sandbox: sandbox !== undefined },
    'gateway listening',
  );
  app.get(ApiKeysReloader).announce();
  if (sandbox) print(sandboxBanner(sandbox, url));
}
