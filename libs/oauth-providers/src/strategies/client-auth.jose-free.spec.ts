import { describe, expect, it } from '@jest/globals';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs test-support/jose-free-process.ts in `mode`; resolves to what it reports. */
function run(mode: 'secrets' | 'jwt'): Promise<{ tokens?: number; error?: string }> {
  const child = fork(fileURLToPath(new URL('../../test-support/jose-free-process.ts', import.meta.url)), [mode], {
    execArgv: ['--import', fileURLToPath(new URL('../../test-support/ts-register.mjs', import.meta.url))],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as { tokens?: number; error?: string }));
    child.once('exit', (code) => reject(new Error(`the process exited (${code}) before reporting`)));
  });
}

// `jose` is ESM-only: a CommonJS app (Jest in CommonJS mode on Node < 24.9) must never have to load it.
describe('jose is loaded only when a JWT client authentication is configured', () => {
  it('every strategy and every method that signs nothing gets tokens with jose unresolvable', async () => {
    expect(await run('secrets')).toEqual({ tokens: 8 });
  }, 30_000);

  it('client_secret_jwt does load it (the check above can fail)', async () => {
    expect(await run('jwt')).toEqual({ error: expect.stringContaining('jose was loaded') });
  }, 30_000);
});
