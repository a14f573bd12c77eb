import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TokenStore } from './stores/token-store.interface.js';
import { TokenService } from './token/token.service.js';

/** How long start-up waits for a shared store (Redis) to connect before going on degraded. */
const STORE_READY_TIMEOUT_MS = 3000;

/**
 * Opens and closes the token store with the app: waits (boundedly) for its connection on module
 * init, so the first requests are not served degraded, and closes it on application shutdown, which
 * Nest runs after every `beforeApplicationShutdown` (where the refresher stops).
 */
@Injectable()
export class TokenStoreLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TokenStoreLifecycle');

  constructor(
    @Inject(TokenStore) private readonly store: TokenStore,
    private readonly tokens: TokenService,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.store.ready && !(await this.store.ready(STORE_READY_TIMEOUT_MS))) {
      this.logger.warn(`token store not reachable within ${STORE_READY_TIMEOUT_MS} ms: starting degraded, tokens fetched per instance`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Renewals waiting between retries give up first, whatever order Nest runs the two hooks in, so none turns to a closed store.
    this.tokens.onApplicationShutdown();
    await this.store.close?.();
  }
}
