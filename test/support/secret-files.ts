/**
 * Secret files on a real file system, for the secret file watcher's suites: a temporary
 * directory, a Kubernetes-style mount whose `..data` symlink is swapped on update, a watcher with
 * short timings whose reads are counted and whose log lines are kept.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { readSecretFileAsync } from '../../apps/gateway/src/config/secret-file.read.js';
import { SecretFileWatcher, type SecretFile, type SecretFileWatcherOptions } from '../../apps/gateway/src/config/secret-file.watcher.js';

export function tempDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `content` to a new file beside `path`, then renames it over `path`, as editors and atomic writers do. */
export function renameOver(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/**
 * A mounted Kubernetes Secret: `<dir>/<name> -> ..data/<name>`, `..data -> ..<version>/`; an
 * update writes a new version directory and renames a new `..data` link over the old one (see
 * kubernetes/pkg/volume/util/atomic_writer.go).
 */
export function kubernetesMount(dir: string, name: string, value: string): { path: string; update(value: string): void } {
  let version = 0;
  const publish = (content: string) => {
    const versioned = `..2026_12_07_${++version}`;
    mkdirSync(join(dir, versioned));
    writeFileSync(join(dir, versioned, name), content);
    symlinkSync(versioned, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (version > 1) rmSync(join(dir, `..2026_12_07_${version - 1}`), { recursive: true });
  };
  mkdirSync(dir, { recursive: true });
  publish(value);
  symlinkSync(join('..data', name), join(dir, name));
  return { path: join(dir, name), update: publish };
}

export interface WatcherRig {
  watcher: SecretFileWatcher;
  /** Every line logged, parsed. */
  lines: Array<Record<string, unknown>>;
  /** The lines with this message. */
  logged: (msg: string) => Array<Record<string, unknown>>;
  /** Reads of a file so far, by path. */
  reads: (path: string) => number;
  /** Providers and fields reported changed, in order. */
  changes: string[];
}

/** A started watcher over `files` with short timings (settle 10 ms, check every 50 ms); `close()` it. */
export async function startWatcher(files: SecretFile[], options: Partial<SecretFileWatcherOptions> = {}): Promise<WatcherRig> {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const readCounts = new Map<string, number>();
  const changes: string[] = [];
  const watcher = new SecretFileWatcher(files, {
    logger: pino({ level: 'debug' }, destination),
    settleMs: 10,
    maxWaitMs: 200,
    pollMs: 50,
    changed: (provider, field) => changes.push(`${provider}.${field}`),
    read: (path, maxBytes) => {
      readCounts.set(path, (readCounts.get(path) ?? 0) + 1);
      return readSecretFileAsync(path, maxBytes);
    },
    ...options,
  });
  await watcher.start();
  return {
    watcher,
    lines,
    logged: (msg) => lines.filter((line) => line.msg === msg),
    reads: (path) => readCounts.get(path) ?? 0,
    changes,
  };
}

/** A secret file entry for `provider`'s client secret at `path`, holding `value` at start-up. */
export function clientSecret(provider: string, path: string, value: string, maxBytes?: number): SecretFile {
  return { provider, field: 'clientSecret', variable: `${provider.toUpperCase()}_CLIENT_SECRET_FILE`, path, value, maxBytes };
}

/** Writes `content` to `path` in place (the same inode), as `echo new > file` does. */
export function rewrite(path: string, content: string): void {
  writeFileSync(path, content);
}
