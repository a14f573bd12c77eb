import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import { RESOLVED_OAUTH_OPTIONS } from '../oauth.constants.js';
import { backoffDelay } from './backoff.js';
import type { TokenObtainedEvent } from './token.service.js';
import { TokenService } from './token.service.js';

/** setTimeout cannot wait longer than 2^31-1 ms; longer waits are re-armed on expiry. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const LEAD_CAP_MS = 30_000;

/**
 * Renews every token ahead of `expiresAt - skew` (by a lead plus jitter) in the background, so request handlers practically
 * never wait on a token endpoint. One named timeout per provider in `SchedulerRegistry`, re-armed
 * whenever a token is stored; a failed renewal retries with capped backoff while the current token
 * still serves callers. The app imports `ScheduleModule.forRoot()` once; the library never does.
 */
@Injectable()
export class TokenRefresher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TokenRefresher');
  private readonly names = new Set<string>();
  private readonly failures = new Map<string, number>();
  private stopped = false;
  private readonly onObtained = (event: TokenObtainedEvent) => this.scheduleRenewal(event.provider);
  private readonly onInvalidated = ({ provider }: { provider: string }) => this.schedule(provider, 0);

  constructor(
    private readonly tokens: TokenService,
    @Inject(RESOLVED_OAUTH_OPTIONS) private readonly options: ResolvedOAuthOptions,
    @Optional() private readonly registry?: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.refresher.enabled) return;
    if (!this.registry) {
      this.logger.warn('ScheduleModule.forRoot() is not imported: tokens are renewed on demand only');
      return;
    }
    this.tokens.events.on('obtained', this.onObtained);
    this.tokens.events.on('invalidated', this.onInvalidated);
    if (this.options.refresher.warmOnStart) for (const provider of this.tokens.providers()) this.schedule(provider, 0);
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    this.tokens.events.off('obtained', this.onObtained);
    this.tokens.events.off('invalidated', this.onInvalidated);
    for (const name of this.names) this.clear(name);
  }

  /** Providers with a renewal timer armed (for tests and `/tokens`). */
  scheduled(): string[] {
    return [...this.names].map((name) => name.slice('oauth-refresh:'.length));
  }

  /** Arms the timer at the token's renewal time, minus a random advance (jitter). */
  private scheduleRenewal(provider: string): void {
    this.failures.delete(provider);
    const lifetime = this.tokens.lifetime(provider);
    if (!lifetime) return;
    // Renew a little before the token stops being handed out, so the renewal (and a retry or two)
    // finishes while callers still get the current token: a lead of 10% of the life, at most 30 s,
    // plus a random advance so providers and instances do not renew in lockstep.
    const life = lifetime.validUntil - lifetime.obtainedAt;
    const lead = Math.min(life * 0.1, LEAD_CAP_MS);
    const jitter = Math.random() * Math.min(this.options.refresher.jitterMs, life * 0.1);
    this.schedule(provider, lifetime.validUntil - lead - jitter - this.options.clock.now());
  }

  private schedule(provider: string, delayMs: number): void {
    if (this.stopped || !this.registry) return;
    const name = `oauth-refresh:${provider}`;
    this.clear(name);
    const wait = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.names.delete(name);
      this.registry?.deleteTimeout(name);
      if (wait < delayMs) this.schedule(provider, delayMs - wait);
      else void this.renew(provider);
    }, wait);
    timer.unref();
    this.registry.addTimeout(name, timer);
    this.names.add(name);
  }

  private async renew(provider: string): Promise<void> {
    if (this.stopped) return;
    try {
      // Success arms the next timer through the 'obtained' event.
      await this.tokens.refreshInBackground(provider);
    } catch (error) {
      const attempt = (this.failures.get(provider) ?? 0) + 1;
      this.failures.set(provider, attempt);
      const { retryBaseMs, retryMaxMs } = this.options.refresher;
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs ?? 0;
      const delay = Math.max(retryAfter, backoffDelay(attempt, retryBaseMs, retryMaxMs));
      this.logger.warn(`${provider}: background renewal failed (${(error as Error).message}); retrying in ${delay} ms`);
      this.schedule(provider, delay);
    }
  }

  private clear(name: string): void {
    if (!this.names.delete(name)) return;
    try {
      this.registry?.deleteTimeout(name);
    } catch {
      // already gone (fired or cleared by someone else)
    }
  }
}
