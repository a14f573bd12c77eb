import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Cruise {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; dependencyTypes: string[] }> }>;
  summary: {
    totalCruised: number;
    violations: Array<{ from: string; to: string; rule: { name: string }; cycle?: Array<{ name: string }> }>;
  };
}

/** dependency-cruiser over the sources of apps/ and libs/ with the rules of .dependency-cruiser.mjs. */
function cruise(): Cruise {
  const run = spawnSync(
    process.execPath,
    [
      'node_modules/dependency-cruiser/bin/dependency-cruise.mjs',
      '--config',
      '.dependency-cruiser.mjs',
      '--output-type',
      'json',
      'apps',
      'libs',
    ],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.stdout === '') throw new Error(`dependency-cruiser failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Cruise;
}

describe('import layers', () => {
  const result = cruise();

  it('counts type-only imports, so a cycle through a shared type is one too', () => {
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    const apiKeys = result.modules.find(({ source }) => source === 'apps/gateway/src/auth/api-keys.ts');
    const typeOnly = apiKeys?.dependencies.find(({ resolved }) => resolved === 'apps/gateway/src/config/gateway-config.ts');
    expect(typeOnly?.dependencyTypes).toContain('type-only');
  });

  it('finds no import cycle, no import of the app by a library and no import running back down the layers', () => {
    const violations = result.summary.violations.map(({ rule, from, to, cycle }) =>
      cycle ? `${rule.name}: ${from} → ${cycle.map(({ name }) => name).join(' → ')}` : `${rule.name}: ${from} → ${to}`,
    );
    expect(violations).toEqual([]);
  });
});
