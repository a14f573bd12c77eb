import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { loadKeysFile, type KeysFileRequest } from '../config/api-keys-file.loader.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { SecretFileWatcher } from '../config/secret-file.watcher.js';
import { GATEWAY_LOGGER } from '../logging/gateway-logger.js';
import { ApiKeys } from './api-keys.js';

type Trigger = 'SIGHUP' | 'change';

/**
 * Called once a new key set is in place, so that state kept per key above this layer (the rate
 * limiter's buckets) lets removed keys go.
 */
export const KEYS_REPLACED = Symbol('KEYS_REPLACED');
export type KeysReplaced = () => void;

/**
 * Reloads `GATEWAY_API_KEYS_FILE` on SIGHUP and when it changes, without a restart. The file's
 * directory is watched, not the file: an editor saves by renaming a new file over the old one, and
 * Kubernetes updates a mounted ConfigMap by swapping its `..data` symlink, and neither is seen by a
 * watch on the old inode. A change is read once the file has been still for `KEYS_FILE_SETTLE_MS`
 * (a writer that pauses mid-write is not read half-way); SIGHUP reads at once. A file that cannot
 * be read, parsed or validated leaves the current keys in place, logs one error line (the
 * problems, never a key) and sets `failed` until a good file loads. The file is read and parsed in
 * a worker thread (`loadKeysFile`); reloads asked for meanwhile are run once it is done.
 */
@Injectable()
export class ApiKeysReloader implements OnModuleInit, OnModuleDestroy {
  /** True since the last reload failed, until one succeeds (`gateway_keys_reload_failed`). */
  failed = false;
  private readonly file?: string;
  private readonly request: Omit<KeysFileRequest, 'unless'>;
  private readonly settleMs: number;
  private watcher?: FSWatcher;
  private settling?: NodeJS.Timeout;
  /** SHA-256 of the file as last read: an event that changed nothing in it is no reload. */
  private lastContent?: string;
  private reloading?: Promise<void>;
  private next?: Trigger;

  constructor(
    private readonly apiKeys: ApiKeys,
    @Inject(GATEWAY_CONFIG) gateway: GatewayConfig,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    @Inject(KEYS_REPLACED) private readonly keysReplaced: KeysReplaced,
    @Optional() private readonly secretFiles?: SecretFileWatcher,
  ) {
    this.file = gateway.apiKeysFile;
    this.request = { path: gateway.apiKeysFile ?? '', known: [...gateway.knownProviders], maxBytes: gateway.keysFileLimits.maxBytes };
    this.settleMs = gateway.keysFileLimits.settleMs;
    this.lastContent = gateway.apiKeysFileContent;
  }

  /** The start-up line, written once the gateway listens: a gateway that cannot listen prints only why. */
  announce(): void {
    const source = this.file === undefined ? 'GATEWAY_API_KEYS' : 'GATEWAY_API_KEYS_FILE';
    this.logger.info({ trigger: 'start', source, keys: this.apiKeys.size }, 'API keys loaded');
  }

  onModuleInit(): void {
    if (this.file === undefined) return;
    // Only the file's own name and a ConfigMap's `..data` link: other files of the directory (logs...) may change all the time.
    const names = new Set([basename(this.file), '..data']);
    this.watcher = watch(dirname(this.file), { persistent: false }, (_event, name) => {
      if (name === null || names.has(name)) this.schedule();
    });
    this.watcher.on('error', (error: NodeJS.ErrnoException) => {
      this.logger.warn({ code: error.code }, 'API keys file: watching its directory stopped; SIGHUP still reloads it');
      this.stopWatching();
    });
  }

  onModuleDestroy(): void {
    this.stopWatching();
  }

  /** SIGHUP: reload the file now, changed or not; without a file there is nothing to reload. Secret files are read again too. */
  hangup(): void {
    void this.secretFiles?.reloadAll();
    if (this.file === undefined) {
      this.logger.info('SIGHUP ignored: no GATEWAY_API_KEYS_FILE to reload');
      return;
    }
    this.reload('SIGHUP');
  }

  /** A change: read once nothing has changed the file for `settleMs` (each event starts the wait again). */
  private schedule(wait = this.settleMs): void {
    clearTimeout(this.settling);
    this.settling = setTimeout(() => this.whenStill(), wait);
  }

  /** Waits longer when the file was modified within `settleMs` (a write the watch did not report). */
  private whenStill(): void {
    let age = Infinity;
    try {
      age = Date.now() - statSync(this.file!).mtimeMs;
    } catch {
      // Gone or unreadable: the load says so.
    }
    if (age >= 0 && age < this.settleMs) this.schedule(this.settleMs - age);
    else this.reload('change');
  }

  /** One reload at a time: one asked for while another runs follows it (SIGHUP winning over a change). */
  private reload(trigger: Trigger): void {
    if (this.reloading) {
      this.next = this.next === 'SIGHUP' ? 'SIGHUP' : trigger;
      return;
    }
    this.reloading = this.load(trigger).finally(() => {
      this.reloading = undefined;
      const next = this.next;
      this.next = undefined;
      if (next) this.reload(next);
    });
  }

  private async load(trigger: Trigger): Promise<void> {
    const started = performance.now();
    const answer = await loadKeysFile({ ...this.request, unless: trigger === 'change' ? this.lastContent : undefined });
    if (answer.status === 'unchanged') return;
    if (answer.status === 'unsettled') {
      this.logger.debug({ trigger }, 'API keys file changed while it was read: read again once it is still');
      return this.schedule();
    }
    if (trigger === 'change' && answer.content === this.lastContent) return;
    this.lastContent = answer.content;
    if (answer.status === 'failed') {
      this.failed = true;
      this.logger.error(
        { trigger, file: this.file, problems: answer.problems, keys: this.apiKeys.size },
        'API keys not reloaded: the current keys stay in use',
      );
      return;
    }
    this.apiKeys.replaceTable(answer.table);
    this.keysReplaced();
    this.failed = false;
    this.logger.info({ trigger, keys: this.apiKeys.size, ms: Math.round(performance.now() - started) }, 'API keys loaded');
    if (this.apiKeys.size === 0)
      this.logger.warn({ trigger, file: this.file }, 'API keys file has no entry: every caller gets 401 until one is added');
  }

  private stopWatching(): void {
    clearTimeout(this.settling);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
