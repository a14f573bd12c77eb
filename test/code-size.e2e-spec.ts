import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from './support/processes.js';

/** Every TypeScript source under apps/ and libs/, tests, test support and build output aside. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'test-support'].includes(entry.name) ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('code size', () => {
  it('keeps every source file under apps/ and libs/ to 300 lines at most, so that each stays one concern', () => {
    const files = [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))];
    expect(files.length).toBeGreaterThan(50);
    const over = files
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > 300);
    expect(over).toEqual([]);
  });
});
