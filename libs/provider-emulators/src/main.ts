import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gatewayEnv, toDotenv } from './gateway-env.js';
import { startProviderEmulators } from './provider-emulators.js';
import type { EmulatedEndpoint } from './emulator.types.js';

/**
 * `npm run emulators [-- --write-env FILE]`: the emulators on PORT (default 4010), HOST (default
 * 127.0.0.1). `--write-env` also writes a `.env` that points every provider at them with a fresh
 * API key, so several gateways (say, sharing tokens through Redis) can use one set of emulators.
 */
const { values } = parseArgs({ options: { 'write-env': { type: 'string' } } });
const emulators = await startProviderEmulators({ port: Number(process.env.PORT ?? 4010), host: process.env.HOST ?? '127.0.0.1' });

const names: EmulatedEndpoint[] = ['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'];
console.log(`provider emulators listening on ${emulators.url}`);
for (const name of names) {
  // Client ids only: the sandbox secrets stay out of the output like any other secret.
  console.log(`  ${name.padEnd(9)} token ${emulators.tokenUrl(name)}  api ${emulators.apiUrl(name)}  client_id ${emulators.credentials[name].clientId}`);
}
const envFile = values['write-env'];
if (envFile) {
  const apiKey = `dev-${randomBytes(24).toString('base64url')}`;
  writeFileSync(envFile, toDotenv({ ...gatewayEnv(emulators), GATEWAY_API_KEYS: apiKey, SANDBOX: 'false' }), { mode: 0o600 });
  console.log(`wrote ${envFile}: every provider points at these emulators; API key ${apiKey}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulators.close().then(() => process.exit(0)));
}
