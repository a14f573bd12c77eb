import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { TokenService, type TokenFailedEvent, type TokenObtainedEvent } from '#oauth-providers';

/** Token renewals and failures in the log: named fields only, never the token or the event whole. */
@Injectable()
export class TokenEventsLogger implements OnModuleInit, OnModuleDestroy {
  private readonly onObtained = (e: TokenObtainedEvent) =>
    this.logger.debug(
      { provider: e.provider, source: e.source, grant: e.grant, background: e.background, expiresAt: new Date(e.token.expiresAt).toISOString(), ms: e.durationMs },
      'token obtained',
    );
  private readonly onFailed = (e: TokenFailedEvent) =>
    this.logger.warn(
      { provider: e.provider, kind: e.error.kind, status: e.error.status, code: e.error.code, description: e.error.description, background: e.background },
      'token request failed',
    );

  constructor(
    private readonly tokens: TokenService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('TokenService');
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
