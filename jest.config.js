// Nest 12 ships ES modules only, so Jest runs in its native ESM mode
// (node --experimental-vm-modules, set by scripts/test.mjs) and @swc/jest
// compiles TypeScript to ESM with legacy decorators + metadata, as tsc does.
import { SWC_OPTIONS } from './swc.options.js';

const swc = ['@swc/jest', SWC_OPTIONS];

export default {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    // The workspace packages as their `@oauth-gateway/source` export condition names them: tests need no build.
    '^@oauth-gateway/oauth-providers$': '<rootDir>/libs/oauth-providers/src/index.ts',
    '^@oauth-gateway/oauth-providers/redis$': '<rootDir>/libs/oauth-providers/src/redis.ts',
    '^@oauth-gateway/oauth-providers/testing$': '<rootDir>/libs/oauth-providers/src/testing.ts',
    '^@oauth-gateway/provider-emulators$': '<rootDir>/libs/provider-emulators/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // The consumer apps are apps of their own, run by the test/consumer suites only.
  modulePathIgnorePatterns: [
    '<rootDir>/libs/[^/]+/dist/',
    '<rootDir>/dist/',
    '<rootDir>/test/consumer/fixture/',
    '<rootDir>/test/consumer/apps/',
  ],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumer/fixture/', '<rootDir>/test/consumer/apps/'],
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 30000,
  // `npm run coverage`: V8's own counters see the ES modules Jest runs natively (Babel's instrumenter
  // would not); code in the gateway processes some suites spawn is not counted.
  coverageProvider: 'v8',
  collectCoverageFrom: ['apps/**/*.ts', 'libs/*/src/**/*.ts', '!**/*.spec.ts', '!**/*.d.ts'],
  coverageReporters: [['text', { skipFull: true }], 'text-summary', 'json-summary'],
};
