import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { AllProvidersKeyGuard } from '../auth/all-providers-key.guard.js';
import { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { tokenStatusView } from './token-status.view.js';

@Controller('tokens')
@UseGuards(AllProvidersKeyGuard)
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
  ) {}

  /**
   * State, expiry, last refresh and last error per provider; never a token value. `rateLimits`:
   * whether per-key limits are shared by every instance (Redis), and whether they are degraded to
   * each instance on its own because Redis is unreachable.
   */
  @Get()
  list() {
    return {
      providers: this.tokens.status().map(tokenStatusView),
      rateLimits: { shared: this.rateLimiter.shared, degraded: this.rateLimiter.isDegraded() },
    };
  }
}
