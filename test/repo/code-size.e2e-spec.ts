import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from '../support/processes.js';

/** Scripts and TypeScript sources; declarations aside, as they describe code rather than hold it. */
const SOURCE = /\.(ts|mts|js|mjs|sh)$/;
const DECLARATION = /\.d\.m?ts$/;

/** Every source under `dir`, tests, test support and build output aside. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'test-support'].includes(entry.name) ? [] : sources(path);
    return SOURCE.test(entry.name) && !DECLARATION.test(entry.name) && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('code size', () => {
  it('keeps every source file under apps/, libs/, bench/ and scripts/ to 300 lines at most, so that each stays one concern', () => {
    const files = ['apps', 'libs', 'bench', 'scripts'].flatMap((dir) => sources(join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain(join(ROOT, 'bench/run.ts'));
    expect(files).toContain(join(ROOT, 'scripts/test.mjs'));
    const over = files
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > 300);
    expect(over).toEqual([]);
  });
});
