import { latamPass } from '@oauth-gateway/oauth-providers';
import { clientOptions, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

export type LatamConfig = TypedConfig<'latam', { testEnvironment: boolean }>;

/** LATAM Pass (docs/providers.md): `_TEST_ENV=true` selects its test environment's headers. */
export const latamDescriptor: ProviderDescriptor<LatamConfig> = {
  type: 'latam',
  required: [],
  optional: ['TEST_ENV'],
  read(vars) {
    const testEnv = vars.get('TEST_ENV');
    if (testEnv !== undefined && testEnv !== 'true' && testEnv !== 'false') {
      vars.problem('TEST_ENV', 'must be true or false');
      return undefined;
    }
    return { testEnvironment: testEnv === 'true' };
  },
  strategy: (p, secrets) => latamPass({ ...clientOptions(p, secrets), testEnvironment: p.testEnvironment }),
  sandbox: (e) => ({
    kind: 'latam',
    tokenUrl: e.tokenUrl('latam'),
    apiUrl: e.apiUrl('latam'),
    ...e.credentials.latam,
    testEnvironment: false,
  }),
};
