import { startProviderEmulators, type EmulatedEndpoint } from '@oauth-gateway/provider-emulators';

/**
 * The upstream of every benchmark target, in its own process: the provider emulators on a
 * loopback port. Tells its URLs and the prio and RFC 6749 (`oauth2`) credentials on IPC, and answers
 * `{ id, tokenRequests: provider }` with how many token requests that provider received so far.
 */
const emulators = await startProviderEmulators({ host: '127.0.0.1', port: 0 });

process.send?.({
  ready: true,
  url: emulators.url,
  prio: { tokenUrl: emulators.tokenUrl('prio'), apiUrl: emulators.apiUrl('prio'), ...emulators.credentials.prio },
  // A second provider on the same origin (the RFC 6749 emulator), for the shared-origin latency row.
  oauth2: {
    tokenUrl: emulators.tokenUrl('oauth2'),
    apiUrl: emulators.apiUrl('oauth2'),
    clientId: emulators.credentials.oauth2.clientId,
    clientSecret: emulators.credentials.oauth2.clientSecret,
  },
});

process.on('message', (message: { id: number; tokenRequests: EmulatedEndpoint }) => {
  process.send?.({ id: message.id, count: emulators.tokenRequests(message.tokenRequests).length });
});

const stop = () => void emulators.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
