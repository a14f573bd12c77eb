import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { KEYS_USAGE } from '../../apps/gateway/src/cli/keys-cli.js';
import { ROOT, runProcess, scratchDir } from '../support/processes.js';

/** `npm run keys` as an operator runs it (needs `dist/`, which scripts/test.mjs builds). */
describe('npm run keys', () => {
  const scratch = scratchDir('keys-cli-');
  afterAll(() => scratch.remove());

  it('reads OAUTH_PROVIDERS from ENV_FILE, as the gateway does', async () => {
    // The repository's own .env, when a developer has one, would answer for ENV_FILE here.
    const cwd = existsSync(join(ROOT, '.env')) ? scratch.dir : ROOT;
    const npmArgs = cwd === ROOT ? [] : ['--prefix', ROOT];
    const envFile = scratch.envFile('gateway.env', { OAUTH_PROVIDERS: 'acme' });
    const withFile = await runProcess('npm', [...npmArgs, 'run', '-s', 'keys', '--', 'new', 'partner-a', '--providers', 'prio,acme'], {
      cwd,
      env: { ENV_FILE: envFile },
    });
    expect(withFile.stderr).not.toContain('known providers are');
    expect(withFile.code).toBe(0);
    expect(withFile.stdout).toContain('providers: [prio, acme]');

    const missing = await runProcess('npm', [...npmArgs, 'run', '-s', 'keys', '--', 'new', 'partner-a'], {
      cwd,
      env: { ENV_FILE: join(scratch.dir, 'no-such.env') },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`ENV_FILE: cannot read ${join(scratch.dir, 'no-such.env')} (ENOENT)`);
  });

  it("keeps the key when its usage's example is pasted into bash", async () => {
    const example = KEYS_USAGE.split('\n')
      .map((line) => line.trim())
      .find((line) => line.includes('read -r KEY'));
    expect(example).toBeDefined();
    const keysFile = join(scratch.dir, 'keys.yaml');
    writeFileSync(keysFile, 'keys:\n');
    // Pasted in the repository's folder, as the README's commands are; only the file's place differs.
    const script = `${example!.replace('keys.yaml', keysFile)}\nprintf '%s' "$KEY"`;
    const run = await runProcess('bash', ['-c', script], { cwd: ROOT });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^gwk_[A-Za-z0-9_-]{43}$/);
    const entries = readFileSync(keysFile, 'utf8');
    expect(entries).toContain('  - name: partner-a\n');
    expect(entries).toContain(`    key: sha256:${keyDigest(run.stdout)}\n`);
    expect(entries).not.toContain(run.stdout);
  });
});
