import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Logger } from 'pino';
import { parseOffThread } from '../config/api-keys-file.loader.js';
import { readKeysText } from '../config/api-keys.config.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { GATEWAY_LOGGER } from '../logging/gateway-logger.js';
import { ApiKeys } from './api-keys.js';

/** Events closer together than this are one change (an editor's save or a ConfigMap update is several). */
export const RELOAD_DEBOUNCE_MS = 100;

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
 * watch on the old inode. A file that cannot be read, parsed or validated leaves the current keys
 * in place, logs one error line (the problems, never a key) and sets `failed` until a good file loads.
 * The file is parsed in a worker thread (`parseOffThread`); reloads asked for meanwhile are run
 * once it is done.
 */
@Injectable()
export class ApiKeysReloader implements OnModuleInit, OnModuleDestroy {
  /** True since the last reload failed, until one succeeds (`gateway_keys_reload_failed`). */
  failed = false;
  private readonly file?: string;
  private readonly known: ReadonlySet<string>;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  /** SHA-256 of the file as last read: an event that changed nothing in it is no reload. */
  private lastContent?: string;
  private reloading?: Promise<void>;
  private next?: Trigger;

  constructor(
    private readonly apiKeys: ApiKeys,
    config: ConfigService,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    @Inject(KEYS_REPLACED) private readonly keysReplaced: KeysReplaced,
  ) {
    const gateway = config.getOrThrow<GatewayConfig>('gateway');
    this.file = gateway.apiKeysFile;
    this.known = gateway.knownProviders;
  }

  /** The start-up line, written once the gateway listens: a gateway that cannot listen prints only why. */
  announce(): void {
    const source = this.file === undefined ? 'GATEWAY_API_KEYS' : 'GATEWAY_API_KEYS_FILE';
    this.logger.info({ trigger: 'start', source, keys: this.apiKeys.size }, 'API keys loaded');
  }

  onModuleInit(): void {
    if (this.file === undefined) return;
    this.lastContent = readKeysText(this.file).content;
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

  /** SIGHUP: reload the file now, changed or not; without a file there is nothing to reload. */
  hangup(): void {
    if (this.file === undefined) {
      this.logger.info('SIGHUP ignored: no GATEWAY_API_KEYS_FILE to reload');
      return;
    }
    this.reload('SIGHUP');
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload('change'), RELOAD_DEBOUNCE_MS);
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
    const text = readKeysText(this.file!);
    if (trigger === 'change' && text.content === this.lastContent) return;
    this.lastContent = text.content;
    const read = 'problem' in text ? text.problem : await this.parse(text.text);
    if (!read.ok) {
      this.failed = true;
      this.logger.error(
        { trigger, problems: read.problems, keys: this.apiKeys.size },
        'API keys not reloaded: the current keys stay in use',
      );
      return;
    }
    this.apiKeys.replace(read.keys);
    this.keysReplaced();
    this.failed = false;
    this.logger.info({ trigger, keys: read.keys.length, ms: Math.round(performance.now() - started) }, 'API keys loaded');
  }

  private async parse(text: string) {
    const { read, threaded } = await parseOffThread(text, this.known);
    if (!threaded) this.logger.warn('API keys file: no parser thread could run, parsed on the event loop');
    return read;
  }

  private stopWatching(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
