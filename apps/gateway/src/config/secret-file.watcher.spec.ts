import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { waitUntil } from '../../../../test/support/helpers.js';
import {
  clientSecret,
  kubernetesMount,
  renameOver,
  rewrite,
  startWatcher,
  tempDirectory,
  type WatcherRig,
} from '../../../../test/support/secret-files.js';
import { SecretFileWatcher, type SecretFile } from './secret-file.watcher.js';

let dir: ReturnType<typeof tempDirectory>;
let rig: WatcherRig | undefined;
beforeEach(() => {
  dir = tempDirectory('secret-watch-');
});
afterEach(() => {
  rig?.watcher.close();
  rig = undefined;
  dir.remove();
});

/** A plain secret file `name` holding `value`, and its watcher entry for provider `prio`. */
function plainFile(name: string, value: string): SecretFile {
  const path = join(dir.path, name);
  writeFileSync(path, `${value}\n`);
  return clientSecret('prio', path, value);
}

async function watch(files: SecretFile[], options?: Parameters<typeof startWatcher>[1]): Promise<WatcherRig> {
  rig = await startWatcher(files, options);
  return rig;
}

describe('SecretFileWatcher: a changed file is in use without a restart', () => {
  it('serves the start-up value until the file changes', async () => {
    const { watcher } = await watch([plainFile('prio-secret', 'first')]);
    expect(watcher.current('prio', 'clientSecret')).toBe('first');
    expect(watcher.current('prio', 'password')).toBeUndefined();
    expect(watcher.current('sabre', 'clientSecret')).toBeUndefined();
  });

  it('reads a file rewritten in place, without its trailing line break, and says so without the value', async () => {
    const file = plainFile('prio-secret', 'first');
    const { watcher, logged, changes, lines } = await watch([file]);
    rewrite(file.path, 'second\r\n');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'second', 'the rewritten value');
    expect(changes).toEqual(['prio.clientSecret']);
    expect(logged('secret file reloaded: the new value is in use')).toEqual([
      expect.objectContaining({ level: 30, provider: 'prio', variable: 'PRIO_CLIENT_SECRET_FILE', path: file.path, trigger: 'change' }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/first|second/);
    expect(watcher.failed('prio')).toBe(false);
  });

  it('reads a new file renamed over the old one (an editor, an atomic writer)', async () => {
    const file = plainFile('prio-secret', 'first');
    const { watcher } = await watch([file]);
    renameOver(file.path, 'second\n');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'second', 'the renamed-over value');
  });

  it("follows a Kubernetes Secret update: the `..data` symlink swapped to a new version's directory", async () => {
    const mount = kubernetesMount(join(dir.path, 'prio'), 'client-secret', 'first\n');
    const { watcher } = await watch([clientSecret('prio', mount.path, 'first')]);
    mount.update('second\n');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'second', 'the value of the new ..data');
    mount.update('third\n');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'third', 'the value of the next ..data');
  });

  it('watches files in several directories, each change reaching only its own provider and field', async () => {
    const prio = plainFile('prio-secret', 'prio-1');
    mkdirSync(join(dir.path, 'sabre'));
    const sabrePath = join(dir.path, 'sabre', 'password');
    writeFileSync(sabrePath, 'sabre-1');
    const sabre: SecretFile = { provider: 'sabre', field: 'password', variable: 'SABRE_PASSWORD_FILE', path: sabrePath, value: 'sabre-1' };
    const { watcher, changes } = await watch([prio, sabre]);
    renameOver(sabrePath, 'sabre-2');
    await waitUntil(() => watcher.current('sabre', 'password') === 'sabre-2', "sabre's new password");
    expect(watcher.current('prio', 'clientSecret')).toBe('prio-1');
    expect(changes).toEqual(['sabre.password']);
    expect(watcher.providers()).toEqual(['prio', 'sabre']);
  });

  it('refuses the same provider and field twice (one value each)', () => {
    const file = plainFile('prio-secret', 'first');
    expect(() => new SecretFileWatcher([file, { ...file, variable: 'OTHER_FILE' }], { logger: pino({ enabled: false }) })).toThrow(
      'SecretFileWatcher: a provider and field given twice',
    );
  });

  it('reads at start a file changed between the start-up read and the watch', async () => {
    const file = plainFile('prio-secret', 'changed-since');
    const { watcher } = await watch([{ ...file, value: 'read-at-start-up' }]);
    expect(watcher.current('prio', 'clientSecret')).toBe('changed-since');
  });

  it('ignores the other files of the directory', async () => {
    const file = plainFile('prio-secret', 'first');
    const { reads } = await watch([file], { pollMs: 3_600_000 });
    const before = reads(file.path);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir.path, 'app.log'), `line ${i}\n`, { flag: 'a' });
    rewrite(file.path, 'second');
    await waitUntil(() => rig!.watcher.current('prio', 'clientSecret') === 'second', 'the change to the watched file');
    expect(reads(file.path) - before).toBe(1);
  });
});

describe('SecretFileWatcher: SIGHUP and what a directory watch cannot see', () => {
  it('reloadAll reads every file at once, changed or not, and logs one line', async () => {
    const mount = kubernetesMount(join(dir.path, 'prio'), 'client-secret', 'first');
    const { watcher, reads, logged } = await watch([clientSecret('prio', mount.path, 'first')], { pollMs: 3_600_000 });
    // Edited in place under `..data/`: the watched directory sees nothing, the check runs hourly here.
    writeFileSync(join(dir.path, 'prio', '..data', 'client-secret'), 'edited-in-place');
    const before = reads(mount.path);
    await watcher.reloadAll();
    expect(watcher.current('prio', 'clientSecret')).toBe('edited-in-place');
    expect(reads(mount.path)).toBe(before + 1);
    expect(logged('secret files read again')).toEqual([expect.objectContaining({ trigger: 'SIGHUP', files: 1, failed: 0 })]);
  });

  it('sees an edit under `..data/` without SIGHUP, through the periodic check', async () => {
    const mount = kubernetesMount(join(dir.path, 'prio'), 'client-secret', 'first');
    const { watcher } = await watch([clientSecret('prio', mount.path, 'first')]);
    writeFileSync(join(dir.path, 'prio', '..data', 'client-secret'), 'edited-in-place');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'edited-in-place', 'the periodic check to see the edit');
  });

  it('keeps its files when the directory watch cannot start (the directory is missing): the periodic check still sees them', async () => {
    const path = join(dir.path, 'later', 'secret');
    const { watcher, logged } = await watch([clientSecret('prio', path, 'from-start-up')]);
    expect(watcher.current('prio', 'clientSecret')).toBe('from-start-up');
    expect(watcher.failed('prio')).toBe(true);
    expect(logged('secret files: watching a directory stopped; changes are still seen by the periodic check and on SIGHUP')).toEqual([
      expect.objectContaining({ level: 40, code: 'ENOENT' }),
    ]);
    mkdirSync(join(dir.path, 'later'));
    writeFileSync(path, 'arrived');
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'arrived', 'the file to be found by the check');
    expect(watcher.failed('prio')).toBe(false);
  });

  it('does nothing on reloadAll without files, or once closed', async () => {
    const empty = await watch([]);
    await empty.watcher.reloadAll();
    expect(empty.lines).toEqual([]);
    const file = plainFile('prio-secret', 'first');
    const closed = await startWatcher([file]);
    closed.watcher.close();
    rewrite(file.path, 'second');
    await closed.watcher.reloadAll();
    expect(closed.watcher.current('prio', 'clientSecret')).toBe('first');
  });
});

describe('SecretFileWatcher: bursts and clean-up', () => {
  it("reads a writer's burst of 100 writes a bounded number of times, ending on the last value", async () => {
    const file = plainFile('prio-secret', 'v0');
    const { watcher, reads } = await watch([file], { settleMs: 50, maxWaitMs: 2000 });
    const before = reads(file.path);
    for (let i = 1; i <= 100; i++) {
      rewrite(file.path, `v${i}`);
      await turn();
    }
    await waitUntil(() => watcher.current('prio', 'clientSecret') === 'v100', 'the last value of the burst');
    expect(reads(file.path) - before).toBeLessThanOrEqual(5);
  });

  it('close() leaves no watch, timer or file handle behind', async () => {
    const resources = () => process.getActiveResourcesInfo();
    const count = (types: string[], type: string) => types.filter((t) => t === type).length;
    const files = (types: string[]) => types.filter((type) => /^(FSEventWrap|FileHandle|FSReq)/.test(type));
    const mount = kubernetesMount(join(dir.path, 'prio'), 'client-secret', 'first');
    const entries = [clientSecret('prio', mount.path, 'first'), { ...plainFile('prio-password', 'pw'), field: 'password' }];
    // Settling takes a minute here, so that both changes below are waiting on their timers when it closes.
    const watcher = new SecretFileWatcher(entries, { logger: pino({ enabled: false }), settleMs: 60_000, maxWaitMs: 60_000 });
    try {
      // Counted synchronously around each call: other timers of the process come and go in between.
      const before = resources();
      const starting = watcher.start();
      const started = resources();
      expect(count(started, 'FSEventWrap') - count(before, 'FSEventWrap')).toBe(2);
      expect(count(started, 'Timeout') - count(before, 'Timeout')).toBe(1);
      await starting;
      mount.update('second');
      rewrite(entries[1].path, 'pw-2');
      await waitUntil(() => count(resources(), 'Timeout') - count(started, 'Timeout') === 2, 'both changes to be settling');
      const open = resources();
      watcher.close();
      expect(count(open, 'Timeout') - count(resources(), 'Timeout')).toBe(3);
      await waitUntil(() => files(resources()).length === 0, 'the watches to be closed');
      expect(watcher.current('prio', 'clientSecret')).toBe('first');
    } finally {
      watcher.close();
    }
  });
});
