import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { TokenService, type TokenFailedEvent, type TokenObtainedEvent } from '@oauth-gateway/oauth-providers';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The gateway's root pino logger (redacting), injected as is rather than through Nest's `Logger`,
 * whose logger is process-wide: with several gateways in one process (tests) every one would log
 * into the last one's destination.
 */
export const GATEWAY_LOGGER = Symbol('GATEWAY_LOGGER');

/**
 * Token events in the log, with named fields only, never the token or an event whole:
 * - `token obtained` (a provider's first token) and `token renewed` (every later one), info;
 * - `token request failed`, warn, with the provider's error kind, status and message;
 * - `token cooling down` (credentials refused: not asked again until `until`) and
 *   `token circuit open` (repeated failures: calls fail fast until `until`), warn.
 */
@Injectable()
export class TokenEventsLogger implements OnModuleInit, OnModuleDestroy {
  private readonly seen = new Set<string>();

  private readonly onObtained = (e: TokenObtainedEvent) => {
    const renewed = this.seen.has(e.provider);
    this.seen.add(e.provider);
    this.logger.info(
      {
        provider: e.provider,
        source: e.source,
        grant: e.grant,
        trigger: e.background ? 'background' : 'request',
        expiresAt: iso(e.token.expiresAt),
        ms: e.durationMs,
      },
      renewed ? 'token renewed' : 'token obtained',
    );
  };

  private readonly onFailed = (e: TokenFailedEvent) => {
    this.logger.warn(
      {
        provider: e.provider,
        kind: e.error.kind,
        status: e.error.status,
        code: e.error.code,
        description: e.error.description,
        trigger: e.background ? 'background' : 'request',
        ms: e.durationMs,
      },
      'token request failed',
    );
    // Failures are rare: the provider's state tells whether this one started a cool-down or opened the circuit.
    const status = this.tokens.status().find((s) => s.provider === e.provider);
    if (status?.cooldownUntil !== undefined) {
      this.logger.warn({ provider: e.provider, until: iso(status.cooldownUntil), description: e.error.description }, 'token cooling down');
    } else if (status?.circuitOpenUntil !== undefined) {
      this.logger.warn({ provider: e.provider, until: iso(status.circuitOpenUntil) }, 'token circuit open');
    }
  };

  private readonly logger: Logger;

  constructor(
    private readonly tokens: TokenService,
    @Inject(GATEWAY_LOGGER) root: Logger,
  ) {
    this.logger = root.child({ context: 'TokenService' });
  }

  onModuleInit(): void {
    this.tokens.events.on('obtained', this.onObtained);
    this.tokens.events.on('failed', this.onFailed);
  }

  onModuleDestroy(): void {
    this.tokens.events.off('obtained', this.onObtained);
    this.tokens.events.off('failed', this.onFailed);
  }
}
