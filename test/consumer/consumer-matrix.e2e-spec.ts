import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { npm, outsideEnv, run } from './consumer-support.js';

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
const CACHE = process.env.OAUTH_GATEWAY_CONSUMER_CACHE ?? join(homedir(), '.cache', 'oauth-gateway-consumers');

const sha = (...files: string[]) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
};

/** The app ready in the cache: installed from its lockfile and the tarball (skipped when both are unchanged), with this clone's sources. */
async function prepare(name: string, tarball: string): Promise<{ dir: string; installed: boolean }> {
  const source = join(APPS, name);
  const dir = join(CACHE, name);
  const stamp = `${sha(join(source, 'package.json'), join(source, 'package-lock.json'))}\n${sha(tarball)}\n`;
  const stampFile = join(dir, '.install-stamp');
  let installed = false;
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(source, file), join(dir, file));
    await npm(['ci', '--prefer-offline'], dir, 400_000);
    copyFileSync(tarball, join(dir, basename(tarball)));
    // the README's command, as a user types it: peers checked, no --legacy-peer-deps
    await npm(['install', '--prefer-offline', `./${basename(tarball)}`], dir, 400_000);
    writeFileSync(stampFile, stamp);
    installed = true;
  }
  copyFileSync(join(source, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  copyFileSync(join(APPS, 'dual-load.cjs'), join(dir, 'dual-load.cjs'));
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  cpSync(join(APPS, 'shared-src'), join(dir, 'src'), { recursive: true });
  return { dir, installed };
}

describe(`${PACKAGE} in outside Nest 10 and 11 apps, CommonJS and ESM`, () => {
  let work: string;
  let tarball: string;
  let emulators: ProviderEmulators;
  const dirs = new Map<string, string>();

  const appEnv = () => {
    const c = emulators.credentials;
    return outsideEnv({
      PRIO_TOKEN_URL: emulators.tokenUrl('prio'),
      PRIO_API_URL: emulators.apiUrl('prio'),
      PRIO_CLIENT_ID: c.prio.clientId,
      PRIO_CLIENT_SECRET: c.prio.clientSecret,
      IDP_TOKEN_URL: emulators.tokenUrl('oauth2'),
      IDP_API_URL: emulators.apiUrl('oauth2'),
      IDP_CLIENT_ID: c.oauth2.clientId,
      IDP_CLIENT_SECRET: c.oauth2.clientSecret,
    });
  };

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
      expect(existsSync(join(dir, 'node_modules', 'ioredis'))).toBe(false);
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

      it('loads the package with import() and require() in one process and gets one TokenService', async () => {
        const out = await run(process.execPath, ['dual-load.cjs'], dirs.get(name)!, 60_000);
        expect(JSON.parse(out.trim())).toEqual({ same: true, module: true });
      }, 70_000);
    });
  }
});
