import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { waitUntil } from '../../../../test/support/helpers.js';
import { clientSecret, renameOver, rewrite, startWatcher, tempDirectory } from '../../../../test/support/secret-files.js';
import { MAX_SECRET_BYTES } from './secret-file.read.js';

/** One thing done to the secret file: a good value written (in place or renamed over), or a fault. */
type Operation = { kind: 'write' | 'renameOver'; content: string } | { kind: 'empty' | 'remove' | 'directory' | 'dangling' | 'tooLarge' };

const content = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9+/=._:-]{1,24}$/), fc.constantFrom('', '\n', '\r\n'))
  .map(([value, end]) => value + end);
const good = fc.record({ kind: fc.constantFrom('write' as const, 'renameOver' as const), content });
const bad = fc.record({
  kind: fc.constantFrom('empty' as const, 'remove' as const, 'directory' as const, 'dangling' as const, 'tooLarge' as const),
});
const operation: fc.Arbitrary<Operation> = fc.oneof(good, bad);

const dir = tempDirectory('secret-property-');
afterAll(() => dir.remove());
let next = 0;

function apply(path: string, op: Operation): void {
  if (op.kind === 'write') {
    // In place when a file is there, so the same inode changes; a fault in its place is undone first.
    if (!lstatSync(path, { throwIfNoEntry: false })?.isFile()) rmSync(path, { recursive: true, force: true });
    return rewrite(path, op.content);
  }
  if (op.kind === 'renameOver') {
    // A file cannot be renamed over a directory: that fault is undone first.
    if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) rmSync(path, { recursive: true });
    return renameOver(path, op.content);
  }
  rmSync(path, { recursive: true, force: true });
  if (op.kind === 'empty') writeFileSync(path, '');
  if (op.kind === 'directory') mkdirSync(path);
  if (op.kind === 'dangling') symlinkSync(`${path}.nowhere`, path);
  if (op.kind === 'tooLarge') writeFileSync(path, 'x'.repeat(MAX_SECRET_BYTES + 1));
}

const valueOf = (written: string) => written.replace(/\r?\n$/, '');

/** A new secret file holding `start`, in a directory of its own. */
function freshFile(start: string): string {
  const sub = join(dir.path, `run-${++next}`);
  mkdirSync(sub);
  const path = join(sub, 'secret');
  writeFileSync(path, start);
  return path;
}

describe('SecretFileWatcher over any sequence of file operations', () => {
  it('after each SIGHUP: the last good value, failed exactly when the file is bad, one line per bad read, one change per new value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 10 }), async (ops) => {
        const path = freshFile('start');
        // Only SIGHUP reads here: the watch's reads wait an hour, so the lines and changes can be counted.
        const rig = await startWatcher([clientSecret('prio', path, 'start')], {
          settleMs: 3_600_000,
          maxWaitMs: 3_600_000,
          pollMs: 3_600_000,
        });
        try {
          let value = 'start';
          let badReads = 0;
          let changes = 0;
          for (const op of ops) {
            apply(path, op);
            await rig.watcher.reloadAll();
            if ('content' in op) {
              if (valueOf(op.content) !== value) changes++;
              value = valueOf(op.content);
            } else {
              badReads++;
            }
            expect(rig.watcher.current('prio', 'clientSecret')).toBe(value);
            expect(rig.watcher.failed('prio')).toBe(!('content' in op));
          }
          expect(rig.logged('secret file not reloaded: the current value stays in use')).toHaveLength(badReads);
          expect(rig.changes).toHaveLength(changes);
          expect(JSON.stringify(rig.lines)).not.toMatch(/"(start|value)":/);
        } finally {
          rig.watcher.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('after a burst of operations ending on a good value, settles on that value without SIGHUP', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 8 }), good, async (ops, last) => {
        const path = freshFile('start');
        const rig = await startWatcher([clientSecret('prio', path, 'start')]);
        try {
          for (const op of [...ops, last]) apply(path, op);
          await waitUntil(
            () => rig.watcher.current('prio', 'clientSecret') === valueOf(last.content) && !rig.watcher.failed('prio'),
            'the last good value',
          );
        } finally {
          rig.watcher.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});
