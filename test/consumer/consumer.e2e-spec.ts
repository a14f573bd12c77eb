import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { emulatorAppEnv, npm, run } from './consumer-support.js';
import { startProviderEmulators, type EmulatedEndpoint, type ProviderEmulators } from '@oauth-gateway/provider-emulators';

/**
 * The package as an outside Nest 12 app gets it: `npm pack` of the workspace, installed into a copy
 * of ./fixture in the system's temp folder (so nothing resolves from this repository's
 * node_modules), type-checked with skipLibCheck: false, and run as plain Node processes against the
 * emulators, first without ioredis, then with it and two instances sharing one token through Redis.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixture', import.meta.url));
const PACKAGE = '@oauth-gateway/oauth-providers';

/** The runtime exports of each entry point: one added or lost by accident fails here. */
const MAIN_EXPORTS = [
  'CLIENT_AUTH_METHODS',
  'FORM_CONTENT_TYPE',
  'InMemoryTokenStore',
  'JSON_CONTENT_TYPE',
  'NoAuthorizationHeaderError',
  'OAuthConfigurationError',
  'OAuthModule',
  'OAuthProviderError',
  'PROVIDER_TOKEN_STATES',
  'SIGNING_ALGS',
  'TokenService',
  'TokenStore',
  'UnknownProviderError',
  'credentialsFingerprint',
  'failureKind',
  'formBody',
  'grantFrom',
  'latamPass',
  'oauth2',
  'payme',
  'prio',
  'rawBasicAuthorization',
  'readCredential',
  'readTokenAnswer',
  'requestTokenAnswer',
  'rfc6749BasicAuthorization',
  'rfc6749ErrorFields',
  'sabre',
  'strategyIdentity',
  'stringField',
  'transatel',
];
const REDIS_EXPORTS = [
  'RedisCommandHealth',
  'RedisTokenStore',
  'TokenCipher',
  'commandTimeoutOf',
  'createRedisConnection',
  'logClientErrors',
  'parseEncryptionKey',
];

/** The fixture's providers and the emulated endpoint each one talks to. */
const PROVIDERS: Array<[provider: string, emulated: EmulatedEndpoint]> = [
  ['prio', 'prio'],
  ['idp', 'oauth2'],
  ['acme', 'oauth2'],
];

interface Report {
  providers: Record<string, { tokenType: string; fingerprint: string; apiStatus: number; acmeVersion?: string }>;
  registered: string[];
  states: string[];
  store: { shared: boolean; degraded: boolean };
  unknownProviderError: boolean;
  exports: Record<string, string[]>;
}

/** The JSON report an app process prints last. */
function reportOf(stdout: string): Report {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Report;
}

describe(`${PACKAGE} installed by an outside Nest 12 app`, () => {
  let work: string;
  let app: string;
  let tarball: string;
  let emulators: ProviderEmulators;

  const appEnv = (extra: Record<string, string> = {}) => {
    const c = emulators.credentials;
    return emulatorAppEnv(emulators, {
      // as the emulators' --write-env gives them: the strict RFC 6749 endpoint
      ACME_TOKEN_URL: emulators.tokenUrl('oauth2'),
      ACME_API_URL: emulators.apiUrl('oauth2'),
      ACME_CLIENT_ID: c.oauth2.clientId,
      ACME_CLIENT_SECRET: c.oauth2.clientSecret,
      ...extra,
    });
  };
  const tokenRequests = () => Object.fromEntries(PROVIDERS.map(([, emulated]) => [emulated, emulators.tokenRequests(emulated).length]));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'oauth-providers-consumer-'));
    app = join(work, 'app');
    cpSync(FIXTURE, app, { recursive: true, filter: (source) => !/[\\/](node_modules|dist)$/.test(source) });
    emulators = await startProviderEmulators();
  });
  afterAll(async () => {
    await emulators?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pins every package of the fixture lockfile to a version the root lockfile holds (so the npm cache has it)', () => {
    const entries = (file: string) =>
      Object.entries(
        (JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, { version?: string; link?: boolean }> }).packages,
      )
        .filter(([path, entry]) => path.includes('node_modules/') && !entry.link)
        .map(([path, entry]) => `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${entry.version}`);
    const root = new Set(entries(join(ROOT, 'package-lock.json')));
    expect(entries(join(FIXTURE, 'package-lock.json')).filter((p) => !root.has(p))).toEqual([]);
  });

  it('shows in the package README the custom strategy this app runs, as it is', () => {
    const readme = readFileSync(join(ROOT, 'libs/oauth-providers/README.md'), 'utf8');
    const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('export class AcmeStrategy'));
    const strategy = block?.replace('// src/acme.strategy.ts\n', '').trimEnd();
    expect(strategy).toBe(readFileSync(join(FIXTURE, 'src/acme.strategy.ts'), 'utf8').trimEnd());
  });

  it('packs with npm pack --workspace: the build, its sources for the maps, README, LICENSE and CHANGELOG; no specs or test support', async () => {
    const out = await npm(['pack', '--workspace', 'libs/oauth-providers', '--pack-destination', work, '--silent'], ROOT, 120_000);
    tarball = join(work, out.trim().split('\n').at(-1)!);
    const files = (await run('tar', ['-tzf', tarball], work, 30_000)).trim().split('\n');
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/redis.cjs',
      'dist/redis.d.ts',
      'dist/testing.cjs',
      'dist/testing.d.ts',
      'dist/esm/index.js',
      'dist/esm/testing.js',
      'dist/cjs/package.json',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/testing.js',
      'src/index.ts',
    ]) {
      expect(files).toContain(`package/${file}`);
    }
    expect(files.filter((f) => /\.spec\.|test-support|tsbuildinfo|tsconfig/.test(f))).toEqual([]);
  }, 150_000);

  it('installs from its own lockfile (npm ci, offline first) and the tarball, without ioredis', async () => {
    const manifest = readFileSync(join(app, 'package.json'), 'utf8');
    await npm(['ci', '--prefer-offline', '--omit=optional'], app, 180_000);
    // The lockfile cannot hold the integrity of a tarball built by this run, so it is added apart.
    await npm(['install', '--no-save', '--prefer-offline', '--omit=optional', tarball], app, 180_000);
    const installed = join(app, 'node_modules', PACKAGE);
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).toMatchObject({ name: PACKAGE, version: expect.any(String) });
    // what was installed is what was just built, not an older tarball of the same version from the npm cache
    expect(readFileSync(join(installed, 'dist/cjs/index.d.ts'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'libs/oauth-providers/dist/cjs/index.d.ts'), 'utf8'),
    );
    expect(existsSync(join(app, 'node_modules', 'ioredis'))).toBe(false);
    expect(readFileSync(join(app, 'package.json'), 'utf8')).toBe(manifest);
  }, 400_000);

  it('type-checks against the declarations with skipLibCheck: false, and compiles', async () => {
    const tsconfig = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')) as { compilerOptions: { skipLibCheck?: boolean } };
    expect(tsconfig.compilerOptions.skipLibCheck).toBe(false);
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], app, 180_000);
  }, 200_000);

  it('boots with forRootAsync + ConfigService: a built-in strategy, oauth2() and an injected custom strategy get working tokens (in-memory store)', async () => {
    emulators.reset();
    const report = reportOf(await run(process.execPath, ['dist/main.js'], app, 60_000, appEnv()));
    expect(report.registered).toEqual(['prio', 'idp', 'acme']);
    for (const [provider] of PROVIDERS) expect(report.providers[provider]).toMatchObject({ tokenType: 'Bearer', apiStatus: 200 });
    expect(report.providers.acme.acmeVersion).toBe('2026-01'); // the custom strategy's requestHeaders reached the API
    expect(report.states).toEqual(['valid', 'valid', 'valid']);
    expect(report.store).toEqual({ shared: false, degraded: false });
    expect(report.unknownProviderError).toBe(true);
    expect(report.exports[PACKAGE]).toEqual(MAIN_EXPORTS);
    expect(tokenRequests()).toEqual({ prio: 1, oauth2: 2 }); // idp and acme
  }, 90_000);

  it('loads the package with import and require in one Node process and gets one TokenService (Nest 12 under Node: require loads its ES modules)', async () => {
    const check = `import { createRequire } from 'node:module';
const imported = await import('${PACKAGE}');
const required = createRequire(import.meta.url)('${PACKAGE}');
console.log(JSON.stringify({ same: imported.TokenService === required.TokenService }));`;
    const out = await run(process.execPath, ['--input-type=module', '-e', check], app, 60_000);
    expect(JSON.parse(out.trim())).toEqual({ same: true });
  }, 70_000);

  const itWithRedis = process.env.TEST_REDIS_URL ? it : it.skip;

  itWithRedis(
    'with ioredis added, two app processes share each token through Redis from ./redis: one token request per provider',
    async () => {
      await npm(['install', '--no-save', '--prefer-offline', tarball], app, 180_000);
      expect(existsSync(join(app, 'node_modules', 'ioredis'))).toBe(true);
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.redis.json'], app, 180_000);

      emulators.reset();
      // Short-lived tokens: the entries this test leaves in the shared Redis expire by themselves.
      for (const [, emulated] of PROVIDERS) emulators.setTokenLifetime(emulated, 60);
      const env = appEnv({
        REDIS_URL: process.env.TEST_REDIS_URL!,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        // Roomier than production's 200 ms: suites share two cores, and a timeout would mean a second fetch.
        REDIS_COMMAND_TIMEOUT_MS: '2000',
      });
      const [first, second] = (await Promise.all([1, 2].map(() => run(process.execPath, ['dist/redis/main.js'], app, 60_000, env)))).map(
        reportOf,
      );
      for (const report of [first, second]) {
        expect(report.store).toEqual({ shared: true, degraded: false });
        expect(report.states).toEqual(['valid', 'valid', 'valid']);
        expect(report.exports[`${PACKAGE}/redis`]).toEqual(REDIS_EXPORTS);
        for (const [provider] of PROVIDERS) expect(report.providers[provider].apiStatus).toBe(200);
      }
      for (const [provider] of PROVIDERS) expect(second.providers[provider].fingerprint).toBe(first.providers[provider].fingerprint);
      expect(tokenRequests()).toEqual({ prio: 1, oauth2: 2 }); // idp and acme
    },
    400_000,
  );

  it('runs its own Jest suite in ESM mode with the testing entry (optional dependencies installed: Jest 30 resolves with a native one)', async () => {
    await npm(['install', '--no-save', '--prefer-offline', tarball], app, 180_000);
    const out = await run('npm', ['test', '--silent', '--', '--ci', '--json'], app, 180_000);
    const report = JSON.parse(out.slice(out.indexOf('{'))) as { numPassedTests: number; numTotalTests: number };
    expect(report.numTotalTests).toBeGreaterThanOrEqual(1);
    expect(report.numPassedTests).toBe(report.numTotalTests);
  }, 400_000);
});
