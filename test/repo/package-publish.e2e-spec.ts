import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { npm, outsideEnv, run } from '../consumer/consumer-support.js';

/**
 * The package as the registry would get it (`npm test` builds first): the packaging linters on the
 * packed tarball, and the README's release procedure followed as far as `npm publish --dry-run`.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = join(ROOT, 'libs/oauth-providers');
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

describe('@oauth-gateway/oauth-providers, ready to publish', () => {
  let work: string;
  let tarball: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'oauth-providers-publish-'));
    const out = await npm(
      ['pack', '--workspace', 'libs/oauth-providers', '--pack-destination', work, '--silent', '--ignore-scripts'],
      ROOT,
      120_000,
    );
    tarball = join(work, out.trim().split('\n').at(-1)!);
  }, 150_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('publint --strict finds nothing', async () => {
    const out = await run(bin('publint'), ['run', PACKAGE, '--strict', '--pack', 'npm'], ROOT, 120_000);
    expect(out).toContain('All good!');
  }, 150_000);

  it('@arethetypeswrong/cli finds nothing for any entry point under node10, node16 (CommonJS and ESM) and bundler resolution', async () => {
    const out = await run(bin('attw'), [tarball, '--format', 'json'], ROOT, 120_000);
    const report = JSON.parse(out) as { problems: Record<string, unknown[]>; analysis: { entrypoints: Record<string, unknown> } };
    expect(report.problems).toEqual({});
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './package.json', './redis', './testing']);
  }, 150_000);

  it('sets what a registry page and a provenance build need', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\//), directory: 'libs/oauth-providers' },
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: { url: expect.stringMatching(/^https:\/\//) },
      keywords: expect.arrayContaining(['nestjs', 'oauth2']),
      publishConfig: { access: 'public', provenance: true },
      license: 'MIT',
    });
    expect(pkg.private).toBeUndefined();
  });

  it("follows the README's release procedure as far as npm publish --dry-run", async () => {
    const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Releasing'), readme.indexOf('\n## ', readme.indexOf('## Releasing') + 1));
    const steps = /```bash\n([\s\S]*?)```/.exec(section)![1].trim().split('\n');
    expect(steps.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'npm version',
      'sed -i',
      'npm test',
      'git commit',
      'git tag',
      'npm publish',
    ]);

    // A clone of the workspace as far as the package goes, with the build just made.
    const clone = join(work, 'clone');
    cpSync(PACKAGE, join(clone, 'libs/oauth-providers'), { recursive: true, filter: (f) => !/node_modules|\.cjs-build/.test(f) });
    writeFileSync(join(clone, 'package.json'), JSON.stringify({ name: 'clone', private: true, workspaces: ['libs/oauth-providers'] }));
    const env = outsideEnv({
      GIT_AUTHOR_NAME: 'r',
      GIT_AUTHOR_EMAIL: 'r@example.org',
      GIT_COMMITTER_NAME: 'r',
      GIT_COMMITTER_EMAIL: 'r@example.org',
    });
    await run('git', ['init', '-q', '-b', 'main'], clone, 30_000, env);
    await run('git', ['add', '-A'], clone, 30_000, env);
    await run('git', ['commit', '-qm', 'before the release'], clone, 30_000, env);

    let published = '';
    for (const step of steps) {
      if (step === 'npm test') continue; // this suite is part of it
      // The clone has no node_modules to update, and its build is the one just made.
      const extra = step.startsWith('npm version')
        ? ' --no-workspaces-update'
        : step.startsWith('npm publish')
          ? ' --dry-run --ignore-scripts'
          : '';
      const out = await run('bash', ['-c', `${step}${extra} 2>&1`], clone, 120_000, env);
      if (step.startsWith('npm publish')) published = out;
    }
    const released = JSON.parse(readFileSync(join(clone, 'libs/oauth-providers/package.json'), 'utf8')) as { version: string };
    expect(released.version).toBe('0.2.0');
    expect(readFileSync(join(clone, 'libs/oauth-providers/CHANGELOG.md'), 'utf8')).toMatch(/^## 0\.2\.0 - \d{4}-\d{2}-\d{2}$/m);
    expect(await run('git', ['tag', '--points-at', 'HEAD'], clone, 30_000, env)).toBe('oauth-providers-v0.2.0\n');
    expect(published).toContain('+ @oauth-gateway/oauth-providers@0.2.0');
    expect(published).toContain('public access (dry-run)');
    expect(published.split('\n').filter((l) => /^npm (warn|error)/.test(l) && !/requires you to be logged in/.test(l))).toEqual([]);
  }, 300_000);
});
