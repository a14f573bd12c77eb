import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorAppEnv, npm, run } from './consumer-support.js';

/**
 * The packed package in outside apps of the Nest versions it supports, each with its own lockfile:
 * Nest 10 and 11, each a CommonJS app (Jest in CommonJS mode with ts-jest, as `nest new` sets up;
 * Nest 10's with TypeScript's node10 resolution) and an ES module app (Jest in ESM mode). Each
 * installs the tarball with the README's plain `npm install`, type-checks with skipLibCheck: false,
 * runs its own Jest suite (the testing entry, then real tokens from the emulators), and loads the
 * package both ways in one process. Installs run in parallel and stay in a cache outside the clone:
 * an app is installed again only when its lockfile or the tarball changed.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APPS = fileURLToPath(new URL('./apps', import.meta.url));
const PACKAGE = '@oauth-gateway/oauth-providers';
const MATRIX = ['nest10-cjs', 'nest10-esm', 'nest11-cjs', 'nest11-esm'] as const;
/** The app that also holds the library README's examples, file by file, under src/readme/. */
const README_APP = 'nest11-esm';
const CACHE = process.env.OAUTH_GATEWAY_CONSUMER_CACHE ?? join(homedir(), '.cache', 'oauth-gateway-consumers');

const sha = (...files: string[]) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
};

/**
 * The app ready in the cache: installed from its lockfile (again only when it changed) and the
 * tarball (again only when it changed, under a name of its own so that npm sees a new package), with this clone's sources.
 */
async function prepare(name: string, tarball: string): Promise<{ dir: string; installed: boolean }> {
  const source = join(APPS, name);
  const dir = join(CACHE, name);
  const stampFile = join(dir, '.install-stamp.json');
  const wanted = { deps: sha(join(source, 'package.json'), join(source, 'package-lock.json')), lib: sha(tarball) };
  let stamp = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, 'utf8')) as typeof wanted) : undefined;
  let installed = false;
  if (stamp?.deps !== wanted.deps) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(source, file), join(dir, file));
    await npm(['ci', '--prefer-offline'], dir, 400_000);
    stamp = { deps: wanted.deps, lib: '' };
    writeFileSync(stampFile, JSON.stringify(stamp));
  }
  if (stamp.lib !== wanted.lib) {
    for (const old of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) rmSync(join(dir, old));
    const file = `${basename(tarball, '.tgz')}-${wanted.lib.slice(0, 12)}.tgz`;
    copyFileSync(tarball, join(dir, file));
    // the README's command, as a user types it: peers checked, no --legacy-peer-deps
    await npm(['install', '--prefer-offline', `./${file}`], dir, 400_000);
    writeFileSync(stampFile, JSON.stringify(wanted));
    installed = true;
  }
  copyFileSync(join(source, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  copyFileSync(join(APPS, 'dual-load.cjs'), join(dir, 'dual-load.cjs'));
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  cpSync(join(APPS, 'shared-src'), join(dir, 'src'), { recursive: true });
  if (name === README_APP) {
    mkdirSync(join(dir, 'src/readme'));
    for (const [file, code] of readmeFiles()) writeFileSync(join(dir, 'src/readme', file), code);
  }
  return { dir, installed };
}

/** Every TypeScript example of the library README: each is a file of one app, named on its first line. */
function readmeFiles(): Array<[file: string, code: string]> {
  const readme = readFileSync(join(ROOT, 'libs/oauth-providers/README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code]) => {
    const file = /^\/\/ src\/([\w.-]+\.ts)\n/.exec(code)?.[1];
    if (!file) throw new Error(`a README example that is not a file of the example app (first line: // src/<name>.ts):\n${code}`);
    return [file, code];
  });
}

/** The README's app, asked for the custom strategy's token and headers (the emulated acme endpoint is strict RFC 6749). */
const ACME_CHECK = `
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { AppModule } from './dist/readme/app.module.js';
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const tokens = app.get(TokenService);
const token = await tokens.getToken('acme');
const res = await fetch(process.env.ACME_API_URL + '/echo', { headers: { ...tokens.getRequestHeaders(token) } });
const echo = await res.json();
console.log(JSON.stringify({ tokenType: token.tokenType, status: res.status, version: echo.headers['acme-version'] }));
await app.close();
`;

describe(`${PACKAGE} in outside Nest 10 and 11 apps, CommonJS and ESM`, () => {
  let work: string;
  let tarball: string;
  let emulators: ProviderEmulators;
  const dirs = new Map<string, string>();

  const appEnv = () => emulatorAppEnv(emulators);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'oauth-providers-matrix-'));
    emulators = await startProviderEmulators();
  });
  afterAll(async () => {
    await emulators?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the workspace and installs every app in parallel with plain npm install of the tarball (peers satisfied)', async () => {
    const out = await npm(['pack', '--workspace', 'libs/oauth-providers', '--pack-destination', work, '--silent'], ROOT, 150_000);
    tarball = join(work, out.trim().split('\n').at(-1)!);
    const prepared = await Promise.all(MATRIX.map((name) => prepare(name, tarball)));
    MATRIX.forEach((name, i) => dirs.set(name, prepared[i].dir));
    for (const { dir } of prepared) {
      // what is installed is what was just built, not an older tarball of the same version
      expect(readFileSync(join(dir, 'node_modules', PACKAGE, 'dist/cjs/index.d.ts'), 'utf8')).toBe(
        readFileSync(join(ROOT, 'libs/oauth-providers/dist/cjs/index.d.ts'), 'utf8'),
      );
      // only the README's app has ioredis, for the Redis example: the others prove it optional
      expect(existsSync(join(dir, 'node_modules', 'ioredis'))).toBe(dir.endsWith(README_APP));
    }
  }, 900_000);

  for (const name of MATRIX) {
    describe(name, () => {
      it('type-checks with skipLibCheck: false and compiles', async () => {
        const dir = dirs.get(name)!;
        const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
        expect(tsconfig.compilerOptions.skipLibCheck).toBe(false);
        await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], dir, 300_000);
        expect(readdirSync(join(dir, 'dist')).sort()).toContain('app.module.js');
      }, 320_000);

      it("runs the app's own Jest suite in its default mode: the testing entry, then real tokens from the emulators", async () => {
        emulators.reset();
        // a failing test fails the command, with Jest's own report in the error
        const out = await run('npm', ['test', '--silent', '--', '--ci', '--json'], dirs.get(name)!, 300_000, appEnv());
        const report = JSON.parse(out.slice(out.indexOf('{'))) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
        expect(report).toMatchObject({ numFailedTests: 0, numPassedTests: report.numTotalTests });
        expect(report.numTotalTests).toBeGreaterThanOrEqual(2);
        expect(emulators.tokenRequests('prio').length).toBe(1);
        expect(emulators.tokenRequests('oauth2').length).toBe(1);
      }, 320_000);

      if (name === README_APP)
        it("runs the README's examples as pasted (compiled and their Jest test run above): the app gets tokens, the custom strategy's too", async () => {
          emulators.reset();
          const c = emulators.credentials;
          const env = {
            ...appEnv(),
            ACME_TOKEN_URL: emulators.tokenUrl('oauth2'),
            ACME_API_URL: emulators.apiUrl('oauth2'),
            ACME_CLIENT_ID: c.oauth2.clientId,
            ACME_CLIENT_SECRET: c.oauth2.clientSecret,
          };
          const out = await run(process.execPath, ['dist/readme/main.js'], dirs.get(name)!, 60_000, env);
          expect(out.trim()).toBe('prio products: HTTP 200');
          expect(readmeFiles().map(([file]) => file)).toEqual(
            expect.arrayContaining([
              'app.module.ts',
              'main.ts',
              'prio.client.ts',
              'acme.strategy.ts',
              'prio.client.spec.ts',
              'token-store.ts',
            ]),
          );
          const acme = await run(process.execPath, ['--input-type=module', '-e', ACME_CHECK], dirs.get(name)!, 60_000, env);
          expect(JSON.parse(acme.trim())).toEqual({ tokenType: 'Bearer', status: 200, version: '2026-01' });
        }, 70_000);

      it('loads the package with import() and require() in one process and gets one TokenService', async () => {
        const out = await run(process.execPath, ['dual-load.cjs'], dirs.get(name)!, 60_000);
        expect(JSON.parse(out.trim())).toEqual({ same: true, module: true });
      }, 70_000);
    });
  }
});
