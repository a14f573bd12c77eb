import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadKeysFile, type KeysParserOptions } from './api-keys-file.loader.js';
import { entriesOf, keyDigest } from './api-keys.config.js';

/** The parser thread runs the sources, as the gateway's test processes do. */
const SOURCES: KeysParserOptions = {
  execArgv: ['--import', new URL('../../../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url).href],
};

describe('loadKeysFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-loader-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keys.yaml');
  writeFileSync(file, 'keys:\n  - { name: a, key: key-a-123456, providers: "*" }\n');
  const request = { path: file, known: ['prio'], maxBytes: 1024 };

  it('answers the table and the content it read, or "unchanged" for the same content again', async () => {
    const answer = await loadKeysFile(request, SOURCES);
    if (answer.status !== 'loaded') throw new Error(answer.status);
    expect(entriesOf(answer.table)).toEqual([{ name: 'a', digest: keyDigest('key-a-123456'), providers: '*', rateLimit: undefined }]);
    expect(await loadKeysFile({ ...request, unless: answer.content }, SOURCES)).toEqual({ status: 'unchanged' });
  });

  it('turns every way the parser thread can fail into one problem line: out of memory, an exception, no answer in time', async () => {
    const big = join(dir, 'big.yaml');
    // One flow list is parsed in one piece: far more than a tiny heap holds.
    writeFileSync(
      big,
      `keys: [${Array.from({ length: 20_000 }, (_, i) => `{ name: c${i}, key: k${i}-abcdef, providers: "*" }`).join(',')}]\n`,
    );
    const answers = await Promise.all([
      loadKeysFile({ ...request, path: big, maxBytes: 10_000_000 }, { ...SOURCES, heapMb: 8 }),
      loadKeysFile({ ...request, known: 5 as unknown as string[] }, SOURCES),
      loadKeysFile(request, { ...SOURCES, timeoutMs: 1 }),
    ]);
    expect(answers.map((a) => a.status === 'failed' && a.problems)).toEqual([
      ["GATEWAY_API_KEYS_FILE: could not be parsed within the parser thread's 8 MB heap"],
      ['GATEWAY_API_KEYS_FILE: could not be parsed: the parser thread failed (TypeError)'],
      ['GATEWAY_API_KEYS_FILE: could not be parsed within 1 ms'],
    ]);
  }, 60_000);

  it('parses a large file part by part: 30,000 keys within a 64 MB heap', async () => {
    const large = join(dir, 'large.yaml');
    const entries = Array.from(
      { length: 30_000 },
      (_, i) => `  - name: caller-${i}\n    key: sha256:${keyDigest(`k${i}`)}\n    providers: "*"\n`,
    );
    writeFileSync(large, `keys:\n${entries.join('')}`);
    const answer = await loadKeysFile({ ...request, path: large, maxBytes: 10_000_000 }, { ...SOURCES, heapMb: 64 });
    expect(answer.status === 'loaded' && answer.table.grantOf.length).toBe(30_000);
  }, 120_000);

  it('reads only a regular file, after symlinks, and none larger than the cap', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const problems = async (path: string, maxBytes = 1024) => {
      const answer = await loadKeysFile({ ...request, path, maxBytes }, SOURCES);
      return answer.status === 'failed' ? answer.problems : answer.status;
    };
    expect(await problems(fifo)).toEqual([`GATEWAY_API_KEYS_FILE: is not a regular file: ${fifo}`]);
    expect(await problems(dir)).toEqual([`GATEWAY_API_KEYS_FILE: is not a regular file: ${dir}`]);
    expect(await problems(file, 10)).toEqual(['GATEWAY_API_KEYS_FILE: is larger than KEYS_FILE_MAX_BYTES (10 bytes)']);
    expect(await problems(join(dir, 'missing'))).toEqual([`GATEWAY_API_KEYS_FILE: cannot be read: ${join(dir, 'missing')}: ENOENT`]);
  });
});
