import type { Logger } from 'pino';
import { checkTls, type ProviderTls, type ProviderTransport } from './provider-transport.js';
import { envPrefix } from './providers/common.variables.js';
import type { SecretSource } from './runtime-secrets.js';
import type { SecretFile } from './secret-file.watcher.js';

/** Each TLS option, with the secret file field that holds it (`<NAME>_TLS_CA_FILE`: `tlsCa`). */
export const TLS_FIELDS = { ca: 'tlsCa', cert: 'tlsCert', key: 'tlsKey', passphrase: 'tlsKeyPassphrase' } as const;
const OPTIONS = Object.keys(TLS_FIELDS) as Array<keyof ProviderTls>;
const TLS_FIELD_NAMES = new Set<string>(Object.values(TLS_FIELDS));

/** What the proxy path, the token client and the expiry gauge read: each provider's TLS material in use. */
export interface TlsSource {
  /** The provider's material in use; undefined when it has none. */
  tls(provider: string): ProviderTls | undefined;
}

export interface TlsRotationOptions {
  logger: Logger;
  /**
   * How long a rotated pair may not match before it is reported: the second file of a pair written
   * one after the other is seen by then (the watcher's settle window, 1 s at most, plus its periodic
   * check, 1 s).
   */
  graceMs?: number;
  now?: () => number;
}

interface Provider {
  prefix: string;
  inUse: ProviderTls;
  certExpiresAt?: number;
  /** Set while the material read does not make a usable whole: it is reported when this fires. */
  grace?: NodeJS.Timeout;
  /** The problem last reported, so that material that stays bad is logged once. */
  reported?: string;
}

/**
 * Each provider's TLS material, validated as a whole whenever one of its files is read anew (the
 * secret file watcher's `changed`): material that passes the start-up checks is put in use at once
 * and listeners (the upstream pools) told; material that does not keeps the current one in use,
 * silently for `graceMs` (a certificate and its key are rotated as two files, one after the other),
 * then with one error line naming the variable and the path, and `failed` until a good whole.
 */
export class TlsRotation implements TlsSource {
  private readonly providers = new Map<string, Provider>();
  private readonly listeners: Array<(provider: string) => void> = [];
  private readonly logger: Logger;
  private readonly graceMs: number;
  private readonly now: () => number;
  private source?: SecretSource;

  constructor(
    providers: ReadonlyArray<{ name: string; transport?: ProviderTransport }>,
    private readonly files: readonly SecretFile[],
    options: TlsRotationOptions,
  ) {
    for (const { name, transport } of providers) {
      if (transport?.tls !== undefined)
        this.providers.set(name, { prefix: envPrefix(name), inUse: transport.tls, certExpiresAt: transport.certExpiresAt });
    }
    this.logger = options.logger;
    this.graceMs = options.graceMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  tls(provider: string): ProviderTls | undefined {
    return this.providers.get(provider)?.inUse;
  }

  /** When the client certificate in use expires (ms since the epoch). */
  certExpiresAt(provider: string): number | undefined {
    return this.providers.get(provider)?.certExpiresAt;
  }

  /** True while the provider's TLS files, read as a whole, were refused (`gateway_secret_reload_failed`). */
  failed(provider: string): boolean {
    return this.providers.get(provider)?.reported !== undefined;
  }

  /** `listener(provider)` after each change of material in use. */
  onChange(listener: (provider: string) => void): void {
    this.listeners.push(listener);
  }

  /** Where the files' current values are read (the watcher). */
  follow(source: SecretSource): void {
    this.source = source;
  }

  /** The watcher read a file anew with another value: a TLS file's provider is checked again. */
  changed(provider: string, field: string): void {
    if (TLS_FIELD_NAMES.has(field)) this.check(provider, false);
  }

  close(): void {
    for (const state of this.providers.values()) clearTimeout(state.grace);
  }

  onModuleDestroy(): void {
    this.close();
  }

  private check(provider: string, report: boolean): void {
    const state = this.providers.get(provider);
    if (state === undefined) return;
    const candidate: ProviderTls = {};
    for (const option of OPTIONS) {
      if (state.inUse[option] !== undefined) candidate[option] = this.source?.current(provider, TLS_FIELDS[option]) ?? state.inUse[option];
    }
    const { problems, certExpiresAt } = checkTls(state.prefix, candidate, this.now());
    if (problems.length > 0) return this.refused(provider, state, problems[0], report);
    clearTimeout(state.grace);
    state.grace = undefined;
    const recovered = state.reported !== undefined;
    state.reported = undefined;
    if (OPTIONS.every((option) => candidate[option] === state.inUse[option])) {
      if (recovered) this.logger.info({ provider }, 'TLS files usable again: the material in use is unchanged');
      return;
    }
    state.inUse = candidate;
    state.certExpiresAt = certExpiresAt;
    const expires = certExpiresAt === undefined ? undefined : new Date(certExpiresAt).toISOString();
    this.logger.info({ provider, certificateExpires: expires }, 'TLS files reloaded: new connections use the new material');
    for (const listener of this.listeners) {
      try {
        listener(provider);
      } catch (error) {
        this.logger.error({ provider, err: error }, 'TLS files reloaded, but telling the gateway failed');
      }
    }
  }

  private refused(provider: string, state: Provider, problem: string, report: boolean): void {
    if (!report) {
      state.grace ??= setTimeout(() => {
        state.grace = undefined;
        this.check(provider, true);
      }, this.graceMs).unref();
      return;
    }
    if (problem === state.reported) return;
    state.reported = problem;
    // The line names its variable (`PRIO_TLS_KEY: does not match PRIO_TLS_CERT…`): the file behind it, when there is one.
    const named = /^([A-Z0-9_]+):/.exec(problem)?.[1];
    const file = this.files.find((f) => f.provider === provider && f.variable === `${named}_FILE`);
    this.logger.error(
      { provider, variable: file?.variable ?? named, path: file?.path, problem },
      'TLS files not reloaded: the material in use stays',
    );
  }
}
