import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT, runProcess } from '../support/processes.js';

/** The bench scripts' command lines, as `npm run soak -- …` hands them over (needs dist/, which scripts/test.mjs builds). */
const SCRIPTS = [
  ['soak', 'dist/bench/soak.js', '--duration'],
  ['bench', 'dist/bench/run.js', '--runs'],
  ['bench:compare', 'dist/bench/compare-builds.js', '--rounds'],
] as const;

describe.each(SCRIPTS)('npm run %s refuses a command line it cannot honour', (_name, script, numeric) => {
  const run = (...args: string[]) => runProcess('node', [join(ROOT, script), ...args]);

  it('an unknown option (regression: --durration 5 ran the default 60 s): the usage, exit 2', async () => {
    const { code, stdout, stderr } = await run('--durration', '5');
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^Unknown option '--durration'/);
    expect(stderr).toContain('Usage: npm run');
  });

  it.each([['abc'], ['-3'], ['0'], ['']])('%p for a number (regression: a stack trace): one line and the usage, exit 2', async (value) => {
    const { code, stderr } = await run(numeric, value);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(
      new RegExp(`^(${numeric}: "${value}" is not a positive number|Option '${numeric}' argument (is ambiguous|missing))`),
    );
    expect(stderr).toContain('Usage: npm run');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('--help prints the usage, exit 0', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm run');
  });
});
