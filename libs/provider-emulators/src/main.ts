import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gatewayEnv, toDotenv } from './gateway-env.js';
import { startProviderEmulators } from './provider-emulators.js';
import type { EmulatedEndpoint } from './emulator.types.js';

const USAGE = `Usage: npm run emulators -- [--port 4010] [--host 127.0.0.1] [--write-env FILE]

  --port N          where the emulators listen (default 4010; 0: any free port)
  --host ADDRESS    interface to bind (default 127.0.0.1)
  --write-env FILE  also write FILE: the gateway variables pointing every provider at these
                    emulators, with a fresh API key (give it to gateways as ENV_FILE=FILE)`;

/**
 * `npm run emulators`: every provider's token endpoint and API on one loopback port, for running
 * gateways (several, sharing one Redis) against them by hand. Nothing is written unless asked.
 */
let values: { port?: string; host?: string; 'write-env'?: string };
try {
  ({ values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, 'write-env': { type: 'string' } } }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const port = Number(values.port ?? 4010);
const host = values.host ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a whole number between 0 and 65535\n${USAGE}`);
  process.exit(2);
}

const emulators = await startProviderEmulators({ port, host }).catch((error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') console.error(`provider emulators: ${host}:${port} is already in use (pick another with --port)`);
  else console.error(`provider emulators: cannot listen on ${host}:${port} (${error.code ?? error.message})`);
  process.exit(1);
});

// Before anything announces that the emulators are up: whoever saw the env file or the banner may stop them at once.
// `on`, not `once`: a signal sent to the process group (Ctrl-C, `kill %1`) arrives twice, directly and through npm,
// and the repeat must not fall back to Node's default (exit 143) while the first one is closing the servers.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void emulators.close().then(() => process.exit(0));
  });
}

const envFile = values['write-env'];
if (envFile) {
  const apiKey = `dev-${randomBytes(24).toString('base64url')}`;
  // Written whole, then renamed into place: whoever waits for the file never reads half of it.
  const partial = `${envFile}.${process.pid}.tmp`;
  writeFileSync(partial, toDotenv({ ...gatewayEnv(emulators), GATEWAY_API_KEYS: apiKey, SANDBOX: 'false' }), { mode: 0o600 });
  renameSync(partial, envFile);
}

const names: EmulatedEndpoint[] = ['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'];
console.log(`provider emulators listening on ${emulators.url}`);
for (const name of names) {
  // Client ids only: the sandbox secrets stay out of the output like any other secret.
  console.log(
    `  ${name.padEnd(9)} token ${emulators.tokenUrl(name)}  api ${emulators.apiUrl(name)}  client_id ${emulators.credentials[name].clientId}`,
  );
}
if (envFile) console.log(`wrote ${envFile}: every provider points at these emulators, and GATEWAY_API_KEYS holds a fresh key`);
