import { startProviderEmulators } from './provider-emulators.js';
import type { EmulatedEndpoint } from './emulator.types.js';

/** `node dist/libs/provider-emulators/src/main.js`: the emulators on PORT (default 4010), HOST (default 127.0.0.1). */
const emulators = await startProviderEmulators({ port: Number(process.env.PORT ?? 4010), host: process.env.HOST ?? '127.0.0.1' });

const names: EmulatedEndpoint[] = ['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'];
console.log(`provider emulators listening on ${emulators.url}`);
for (const name of names) {
  // Client ids only: the sandbox secrets stay out of the output like any other secret.
  console.log(`  ${name.padEnd(9)} token ${emulators.tokenUrl(name)}  api ${emulators.apiUrl(name)}  client_id ${emulators.credentials[name].clientId}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulators.close().then(() => process.exit(0)));
}
