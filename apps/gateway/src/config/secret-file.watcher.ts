import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { errorVersion, MAX_SECRET_BYTES, readSecretFileAsync, versionOf, type VersionedSecretRead } from './secret-file.read.js';

/** One secret given as a file: whose it is, the variable that named it, and the value read at start-up. */
export interface SecretFile {
  provider: string;
  /** The credential it holds, as the runtime secrets name it (`clientSecret`, `password`, `privateKey`, `tlsCert`...). */
  field: string;
  /** The variable that named the file (`PRIO_CLIENT_SECRET_FILE`), for the log lines. */
  variable: string;
  path: string;
  value: string;
  /** Default `MAX_SECRET_BYTES`; PEM bundles are allowed more. */
  maxBytes?: number;
}

export interface SecretFileWatcherOptions {
  logger: Logger;
  /** A change is read once no further event came for this long, so that a writer's burst gives one read. */
  settleMs?: number;
  /** ...but never later than this after its first event, however long the burst. */
  maxWaitMs?: number;
  /** Every file is also checked (one `stat`) this often, for changes a directory watch does not report. */
  pollMs?: number;
  /** Called after a file's value changed (e.g. to end a rejected-credentials cool-down); errors are logged. */
  changed?: (provider: string, field: string) => void;
  /** How a file is read; tests count the reads through it. */
  read?: (path: string, maxBytes: number) => Promise<VersionedSecretRead>;
}

type Trigger = 'start' | 'change' | 'SIGHUP';

interface Watched extends SecretFile {
  failed: boolean;
  /** The problem last logged, so that a file that stays broken is logged once, not at every check. */
  problem?: string;
  /** The file's version as last read: a check that finds another one reads it again. */
  version?: string;
  settling?: NodeJS.Timeout;
  firstEventAt?: number;
  reading?: Promise<void>;
  again?: Trigger;
}

/**
 * Keeps the current value of each secret file and reads it again when it changes and on SIGHUP
 * (`reloadAll`). The file's directory is watched, not the file: an editor renames a new file over
 * the old one and Kubernetes swaps a mounted Secret's `..data` symlink, and a watch on the old
 * inode sees neither. A `stat` of every file each `pollMs` catches what a directory watch misses
 * (a file edited behind a symlink, a network file system). A file that becomes unreadable, empty,
 * not a regular file or too large keeps its current value, logs one line naming the variable and
 * the path (never the value), and marks its provider failed until a good read.
 */
export class SecretFileWatcher {
  private readonly files: Watched[];
  private readonly logger: Logger;
  private readonly settleMs: number;
  private readonly maxWaitMs: number;
  private readonly pollMs: number;
  private readonly changed?: (provider: string, field: string) => void;
  private readonly read: (path: string, maxBytes: number) => Promise<VersionedSecretRead>;
  private readonly watchers: FSWatcher[] = [];
  private poll?: NodeJS.Timeout;
  private polling = false;
  private closed = false;

  constructor(files: readonly SecretFile[], options: SecretFileWatcherOptions) {
    this.files = files.map((file) => ({ ...file, failed: false }));
    const fields = new Set(files.map((file) => `${file.provider} ${file.field}`));
    if (fields.size < files.length) throw new Error('SecretFileWatcher: a provider and field given twice');
    this.logger = options.logger;
    this.settleMs = options.settleMs ?? 100;
    this.maxWaitMs = options.maxWaitMs ?? 1000;
    this.pollMs = options.pollMs ?? 1000;
    this.changed = options.changed;
    this.read = options.read ?? readSecretFileAsync;
  }

  /** Starts watching, then reads every file once: a change between the start-up read and the watch is not missed. */
  start(): Promise<void> {
    // Watches and timer keep the loop alive on purpose: `close()` is owed at shutdown, and a missing one shows as an open handle.
    for (const [directory, files] of this.byDirectory()) this.watchDirectory(directory, files);
    if (this.files.length > 0) this.poll = setInterval(() => void this.check(), this.pollMs);
    return Promise.all(this.files.map((file) => this.reload(file, 'start'))).then(() => undefined);
  }

  /** The value in use; `undefined` for a provider and field that were not given as a file. */
  current(provider: string, field: string): string | undefined {
    return this.find(provider, field)?.value;
  }

  /** True while one of the provider's files failed its last read (`gateway_secret_reload_failed`). */
  failed(provider: string): boolean {
    return this.files.some((file) => file.provider === provider && file.failed);
  }

  /** The providers with at least one secret file. */
  providers(): string[] {
    return [...new Set(this.files.map((file) => file.provider))];
  }

  /** SIGHUP: reads every file now, changed or not; resolves once all are read. */
  async reloadAll(): Promise<void> {
    if (this.closed || this.files.length === 0) return;
    for (const file of this.files) this.settled(file);
    await Promise.all(this.files.map((file) => this.reload(file, 'SIGHUP')));
    const failed = this.files.filter((file) => file.failed).length;
    this.logger.info({ trigger: 'SIGHUP', files: this.files.length, failed }, 'secret files read again');
  }

  /** Stops every watch and timer; reads under way finish without effect. */
  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    for (const file of this.files) this.settled(file);
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }

  /** Nest calls this at shutdown when the watcher is one of its providers. */
  onModuleDestroy(): void {
    this.close();
  }

  private find(provider: string, field: string): Watched | undefined {
    return this.files.find((file) => file.provider === provider && file.field === field);
  }

  private byDirectory(): Map<string, Watched[]> {
    const directories = new Map<string, Watched[]>();
    for (const file of this.files) directories.set(dirname(file.path), [...(directories.get(dirname(file.path)) ?? []), file]);
    return directories;
  }

  private watchDirectory(directory: string, files: Watched[]): void {
    let watcher: FSWatcher;
    try {
      // Only the files' own names and a mounted Secret's `..data` link: other files of the directory may change all the time.
      watcher = watch(directory, (_event, name) => {
        for (const file of files) if (name === null || name === '..data' || name === basename(file.path)) this.schedule(file);
      });
    } catch (error) {
      return this.watchStopped(directory, error);
    }
    watcher.on('error', (error) => {
      watcher.close();
      this.watchStopped(directory, error);
    });
    this.watchers.push(watcher);
  }

  private watchStopped(directory: string, error: unknown): void {
    this.logger.warn(
      { directory, code: errorVersion(error).slice('error:'.length), pollMs: this.pollMs },
      'secret files: watching a directory stopped; changes are still seen by the periodic check and on SIGHUP',
    );
  }

  /** One `stat` per file: a file whose version is not the one last read is read again. */
  private async check(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const versions = await Promise.all(this.files.map((file) => stat(file.path).then(versionOf, errorVersion)));
      this.files.forEach((file, index) => {
        if (versions[index] !== file.version) this.schedule(file);
      });
    } finally {
      this.polling = false;
    }
  }

  /** A change: read once nothing happened for `settleMs`, or `maxWaitMs` after the first event at the latest. */
  private schedule(file: Watched): void {
    if (this.closed) return;
    const now = Date.now();
    file.firstEventAt ??= now;
    clearTimeout(file.settling);
    const wait = Math.max(0, Math.min(this.settleMs, file.firstEventAt + this.maxWaitMs - now));
    file.settling = setTimeout(() => {
      this.settled(file);
      void this.reload(file, 'change');
    }, wait);
  }

  private settled(file: Watched): void {
    clearTimeout(file.settling);
    file.settling = undefined;
    file.firstEventAt = undefined;
  }

  /** One read of a file at a time; one asked for meanwhile follows it (SIGHUP winning over a change). */
  private reload(file: Watched, trigger: Trigger): Promise<void> {
    if (file.reading) {
      file.again = file.again === 'SIGHUP' || trigger === 'SIGHUP' ? 'SIGHUP' : trigger;
      return file.reading;
    }
    file.reading = this.load(file, trigger)
      .catch((error: unknown) =>
        this.logger.error({ variable: file.variable, path: file.path, err: error }, 'secret file: reading it failed'),
      )
      .finally(() => {
        file.reading = undefined;
        const again = file.again;
        file.again = undefined;
        if (again && !this.closed) return this.reload(file, again);
      });
    return file.reading;
  }

  private async load(file: Watched, trigger: Trigger): Promise<void> {
    const read = await this.read(file.path, file.maxBytes ?? MAX_SECRET_BYTES);
    if (this.closed) return;
    file.version = read.version;
    const log = { provider: file.provider, variable: file.variable, path: file.path, trigger };
    if (read.problem !== undefined) {
      file.failed = true;
      if (read.problem !== file.problem || trigger === 'SIGHUP') {
        this.logger.error({ ...log, problem: read.problem }, 'secret file not reloaded: the current value stays in use');
      }
      file.problem = read.problem;
      return;
    }
    const recovered = file.failed;
    file.failed = false;
    file.problem = undefined;
    if (read.value === file.value) {
      if (recovered) this.logger.info(log, 'secret file readable again: its value is unchanged');
      return;
    }
    file.value = read.value;
    this.logger.info(log, 'secret file reloaded: the new value is in use');
    try {
      this.changed?.(file.provider, file.field);
    } catch (error) {
      this.logger.error({ ...log, err: error }, 'secret file reloaded, but telling the gateway failed');
    }
  }
}
