import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { TokenService, type TokenFailedEvent, type TokenObtainedEvent } from '@oauth-gateway/oauth-providers';
import { GATEWAY_LOGGER } from './gateway-logger.js';
import { isoTime as iso } from './iso-time.js';

/** The message of a failure's line, from what the failure led to. */
const FAILURE_MESSAGES: Record<TokenFailedEvent['reason'], string> = {
  failed: 'token request failed',
  cooling_down: 'token cooling down',
  circuit_open: 'token circuit open',
};

/**
 * Token events in the log, one line per event, with named fields only, never the token or an
 * event whole:
 * - `token obtained` (a provider's first token) and `token renewed` (every later one), info;
 * - a failed renewal, warn, with the provider's error kind, status and message: `token cooling
 *   down` when the credentials were refused (not asked again until `until`), `token circuit open`
 *   when it opened the circuit (calls fail fast until `until`), else `token request failed`.
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
    const until = e.cooldownUntil ?? e.circuitOpenUntil;
    this.logger.warn(
      {
        provider: e.provider,
        kind: e.error.kind,
        status: e.error.status,
        code: e.error.code,
        description: e.error.description,
        trigger: e.background ? 'background' : 'request',
        ms: e.durationMs,
        ...(until !== undefined && { until: iso(until) }),
        ...(e.reason === 'circuit_open' && { failures: e.consecutiveFailures }),
      },
      FAILURE_MESSAGES[e.reason],
    );
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
