import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import { RESOLVED_OAUTH_OPTIONS } from '../oauth.constants.js';
import { backoffDelay } from './backoff.js';
import type { TokenObtainedEvent } from './token.events.js';
import { TokenService } from './token.service.js';

/** setTimeout cannot wait longer than 2^31-1 ms; longer waits are re-armed on expiry. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest lead of a renewal over the end of the token's usable life. */
const LEAD_CAP_MS = 30_000;
/** Shortest lead, unless the usable life is shorter than twice that (then: half the life). */
const LEAD_FLOOR_MS = 5_000;
/** The registry names this refresher's timers `oauth-refresh:<provider>`; other timers of the app are not its own. */
const TIMER_PREFIX = 'oauth-refresh:';

/**
 * How long before the token stops being handed out its renewal starts: 10% of the usable life, at
 * least 5 s (at most half the life, for very short tokens), at most 30 s, so a slow token endpoint
 * or a busy event loop still leaves time before callers would have to wait.
 */
export function renewalLeadMs(usableLifeMs: number): number {
  const life = Math.max(0, usableLifeMs);
  return Math.min(Math.max(life * 0.1, Math.min(life / 2, LEAD_FLOOR_MS)), LEAD_CAP_MS);
}

/**
 * Renews every token ahead of `expiresAt - skew` (by a lead plus jitter) in the background, so
 * request handlers practically never wait on a token endpoint. One named timeout per provider in
 * `SchedulerRegistry`, re-armed whenever a token is stored; a failed renewal retries with capped
 * backoff while the current token still serves callers. The app imports `ScheduleModule.forRoot()`
 * once; the library never does (each call would be a separate module with its own timers).
 */
@Injectable()
export class TokenRefresher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TokenRefresher');
  private readonly failures = new Map<string, number>();
  /** Per provider: token uses (cache hits + misses) counted when its renewal was armed. */
  private readonly usesAtSchedule = new Map<string, number>();
  private stopped = false;
  // These run inside TokenService's emit: an exception here must never fail the token request.
  private readonly onObtained = (event: TokenObtainedEvent) => this.guard(event.provider, () => this.scheduleRenewal(event.provider));
  private readonly onInvalidated = ({ provider }: { provider: string }) => this.guard(provider, () => this.schedule(provider, 0));

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
    for (const name of this.registry?.getTimeouts() ?? []) if (name.startsWith(TIMER_PREFIX)) this.clear(name);
  }

  /** Arms the timer at the token's renewal time, minus a random advance (jitter). */
  private scheduleRenewal(provider: string): void {
    this.failures.delete(provider);
    const lifetime = this.tokens.lifetime(provider);
    if (!lifetime) return;
    this.usesAtSchedule.set(provider, this.uses(provider));
    // Renew before the token stops being handed out, so the renewal (and a retry or two) finishes
    // while callers still get the current token (see renewalLeadMs), plus a random advance so
    // providers and instances do not renew in lockstep.
    const life = lifetime.validUntil - lifetime.obtainedAt;
    const lead = renewalLeadMs(life);
    const jitter = Math.random() * Math.min(this.options.refresher.jitterMs, life * 0.1);
    // Not before the service may start it (`minRequestIntervalMs`), so that no renewal sits waiting.
    const at = Math.max(lifetime.validUntil - lead - jitter, lifetime.obtainedAt + this.options.minRequestIntervalMs);
    this.schedule(provider, at - this.options.clock.now());
  }

  private schedule(provider: string, delayMs: number): void {
    if (this.stopped || !this.registry) return;
    const name = `${TIMER_PREFIX}${provider}`;
    this.clear(name);
    const wait = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.guard(provider, () => {
        this.clear(name);
        if (wait < delayMs) this.schedule(provider, delayMs - wait);
        else void this.renew(provider);
      });
    }, wait);
    timer.unref();
    this.registry.addTimeout(name, timer);
  }

  private async renew(provider: string): Promise<void> {
    if (this.stopped) return;
    // Not warming every provider: a token nobody used since it was obtained is left to lapse, and
    // the next caller fetches one (failed renewals, being retries, are not skipped).
    if (!this.options.refresher.warmOnStart && !this.failures.has(provider) && this.usesAtSchedule.get(provider) === this.uses(provider)) {
      this.logger.debug(`${provider}: token unused since its last renewal; not renewing it in the background`);
      return;
    }
    try {
      // Success arms the next timer through the 'obtained' event.
      await this.tokens.refreshInBackground(provider);
      // Joining a renewal that was still finishing (the one that armed this timer) emits no event of its own.
      if (!this.registry?.doesExist('timeout', `${TIMER_PREFIX}${provider}`)) this.scheduleRenewal(provider);
    } catch (error) {
      // A provider's failure was reported once, through the service's 'failed' event; anything else is a bug to show.
      if (!(error instanceof OAuthProviderError)) this.logger.error(`${provider}: background renewal failed (${(error as Error).message})`);
      const attempt = (this.failures.get(provider) ?? 0) + 1;
      this.failures.set(provider, attempt);
      const { retryBaseMs, retryMaxMs } = this.options.refresher;
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs ?? 0;
      // No sooner than the service would start the renewal anyway (`minRequestIntervalMs`).
      this.schedule(provider, Math.max(retryAfter, backoffDelay(attempt, retryBaseMs, retryMaxMs), this.options.minRequestIntervalMs));
    }
  }

  /** Token uses so far (cache hits + misses) of one provider. */
  private uses(provider: string): number {
    const counters = this.tokens.cacheCounters().find((c) => c.provider === provider);
    return counters ? counters.hits + counters.misses : 0;
  }

  /** Timer callbacks and event handlers never throw: an error is logged and the renewal retried later. */
  private guard(provider: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error(`${provider}: refresher error (${(error as Error).message}); retrying in ${this.options.refresher.retryBaseMs} ms`);
      try {
        this.schedule(provider, this.options.refresher.retryBaseMs);
      } catch {
        // the registry itself is failing: renewals fall back to callers (on demand)
      }
    }
  }

  private clear(name: string): void {
    if (this.registry?.doesExist('timeout', name)) this.registry.deleteTimeout(name);
  }
}
