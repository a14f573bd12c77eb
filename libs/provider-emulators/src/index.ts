export { startProviderEmulators } from './provider-emulators.js';
export { DEFAULT_EMULATOR_CREDENTIALS } from './emulator-credentials.js';
export { GATEWAY_PROVIDERS, gatewayEnv, toDotenv } from './gateway-env.js';
export type {
  DownloadRecord,
  EmulatedProvider,
  EmulatedEndpoint,
  EmulatorAccount,
  EmulatorCredentials,
  EmulatorCredentialsOption,
  FailureMode,
  TokenRequestRecord,
  ProviderEmulators,
  StartProviderEmulatorsOptions,
} from './emulator.types.js';
