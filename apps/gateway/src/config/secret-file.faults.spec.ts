import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MetricsService } from '../metrics/metrics.service.js';
import { SecretMetrics } from '../metrics/secret.metrics.js';
import { waitUntil } from '../../../../test/support/helpers.js';
import { clientSecret, rewrite, startWatcher, tempDirectory, type WatcherRig } from '../../../../test/support/secret-files.js';
import { MAX_SECRET_BYTES, readSecretFile } from './secret-file.read.js';

const NOT_RELOADED = 'secret file not reloaded: the current value stays in use';

let dir: ReturnType<typeof tempDirectory>;
let rig: WatcherRig | undefined;
beforeEach(() => {
  dir = tempDirectory('secret-faults-');
});
afterEach(() => {
  rig?.watcher.close();
  rig = undefined;
  dir.remove();
});

/** Replaces whatever is at `path` by the fault. */
const FAULTS: Array<[string, (path: string) => void, RegExp]> = [
  ['removed', (path) => rmSync(path), /^cannot read .* \(ENOENT\)$/],
  ['a dangling symlink', (path) => (rmSync(path), symlinkSync(join(dir.path, 'gone'), path)), /^cannot read .* \(ENOENT\)$/],
  ['a symlink loop', (path) => (rmSync(path), symlinkSync(path, path)), /^cannot read .* \(ELOOP\)$/],
  ['empty', (path) => rewrite(path, ''), /is empty$/],
  ['blank: a line break and spaces', (path) => rewrite(path, '  \n'), /is empty$/],
  ['a directory', (path) => (rmSync(path), mkdirSync(path)), /is not a regular file$/],
  ['a FIFO (refused without waiting for a writer)', (path) => (rmSync(path), execFileSync('mkfifo', [path])), /is not a regular file$/],
  ['too large', (path) => rewrite(path, 'x'.repeat(MAX_SECRET_BYTES + 1)), /is larger than 64 KiB \(not a secret file\?\)$/],
];

/** The gauge's value for `provider`, as /metrics would show it. */
async function gauge(metrics: MetricsService, provider: string): Promise<number | undefined> {
  const text = await metrics.registry.getSingleMetricAsString('gateway_secret_reload_failed');
  const value = new RegExp(`^gateway_secret_reload_failed\\{provider="${provider}"\\} (\\d+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

describe('SecretFileWatcher: a file that turns bad keeps the value in use', () => {
  it.each(FAULTS)(
    '%s: old value kept, one line naming the variable and the path, gauge 1; a good file again: gauge 0',
    async (_fault, apply, problem) => {
      const path = join(dir.path, 'prio-secret');
      writeFileSync(path, 'good-1\n');
      const sabrePath = join(dir.path, 'sabre-secret');
      writeFileSync(sabrePath, 'sabre');
      rig = await startWatcher([clientSecret('prio', path, 'good-1'), clientSecret('sabre', sabrePath, 'sabre')]);
      const metrics = new MetricsService();
      new SecretMetrics(metrics, rig.watcher);
      expect(await gauge(metrics, 'prio')).toBe(0);

      apply(path);
      await waitUntil(() => rig!.watcher.failed('prio'), 'the bad read');
      expect(rig.watcher.current('prio', 'clientSecret')).toBe('good-1');
      expect(rig.logged(NOT_RELOADED)).toEqual([
        expect.objectContaining({
          level: 50,
          provider: 'prio',
          variable: 'PRIO_CLIENT_SECRET_FILE',
          path,
          problem: expect.stringMatching(problem),
        }),
      ]);
      expect(JSON.stringify(rig.lines)).not.toContain('good-1');
      expect(await gauge(metrics, 'prio')).toBe(1);
      expect(await gauge(metrics, 'sabre')).toBe(0);

      rmSync(path, { recursive: true, force: true });
      writeFileSync(path, 'good-2\n');
      await waitUntil(() => rig!.watcher.current('prio', 'clientSecret') === 'good-2', 'the good file');
      expect(await gauge(metrics, 'prio')).toBe(0);
      expect(rig.logged(NOT_RELOADED)).toHaveLength(1);
    },
  );

  it('logs a file that stays broken once, however often it is read, and again on each SIGHUP', async () => {
    const path = join(dir.path, 'prio-secret');
    writeFileSync(path, 'good');
    rig = await startWatcher([clientSecret('prio', path, 'good')]);
    rewrite(path, '');
    await waitUntil(() => rig!.watcher.failed('prio'), 'the bad read');
    const reads = rig.reads(path);
    rewrite(path, '\n');
    await waitUntil(() => rig!.reads(path) > reads, 'the second bad version to be read');
    expect(rig.logged(NOT_RELOADED)).toHaveLength(1);
    await rig.watcher.reloadAll();
    expect(rig.logged(NOT_RELOADED)).toEqual([
      expect.objectContaining({ trigger: 'change' }),
      expect.objectContaining({ trigger: 'SIGHUP' }),
    ]);
    expect(rig.logged('secret files read again')).toEqual([expect.objectContaining({ failed: 1 })]);
  });

  it('says when a file it could not read is readable again with the same value', async () => {
    const path = join(dir.path, 'prio-secret');
    writeFileSync(path, 'good');
    rig = await startWatcher([clientSecret('prio', path, 'good')]);
    rmSync(path);
    await waitUntil(() => rig!.watcher.failed('prio'), 'the bad read');
    writeFileSync(path, 'good\n');
    await waitUntil(() => !rig!.watcher.failed('prio'), 'the good read');
    expect(rig.logged('secret file readable again: its value is unchanged')).toHaveLength(1);
    expect(rig.changes).toEqual([]);
  });

  it('allows a file more than 64 KiB when its entry says so (PEM bundles)', async () => {
    const path = join(dir.path, 'ca.pem');
    writeFileSync(path, 'start');
    const bundle = 'B'.repeat(200 * 1024);
    rig = await startWatcher([{ ...clientSecret('prio', path, 'start', 1024 * 1024), field: 'tlsCa', variable: 'PRIO_TLS_CA_FILE' }]);
    rewrite(path, bundle);
    await waitUntil(() => rig!.watcher.current('prio', 'tlsCa') === bundle, 'the large bundle');
  });

  it('survives a listener that throws and a read that throws: one line each, the value stays', async () => {
    const path = join(dir.path, 'prio-secret');
    writeFileSync(path, 'good');
    let fail = false;
    rig = await startWatcher([clientSecret('prio', path, 'good')], {
      changed: () => {
        throw new Error('listener broke');
      },
      read: (file, maxBytes) =>
        fail ? Promise.reject(new Error('disk broke')) : Promise.resolve({ ...readSecretFile(file, maxBytes), version: 'v' }),
    });
    rewrite(path, 'second');
    await rig.watcher.reloadAll();
    expect(rig.watcher.current('prio', 'clientSecret')).toBe('second');
    expect(rig.logged('secret file reloaded, but telling the gateway failed')).toHaveLength(1);
    fail = true;
    rewrite(path, 'third');
    await rig.watcher.reloadAll();
    expect(rig.watcher.current('prio', 'clientSecret')).toBe('second');
    expect(rig.logged('secret file: reading it failed')).toHaveLength(1);
  });
});

describe('readSecretFile (start-up) applies the same rules', () => {
  it.each(FAULTS)('%s', (_fault, apply, problem) => {
    const path = join(dir.path, 'secret');
    writeFileSync(path, 'good');
    apply(path);
    expect(readSecretFile(path)).toEqual({ problem: expect.stringMatching(problem) });
  });

  it('removes one trailing line break only', () => {
    const path = join(dir.path, 'secret');
    writeFileSync(path, ' spaced value \n\n');
    expect(readSecretFile(path)).toEqual({ value: ' spaced value \n' });
  });
});
