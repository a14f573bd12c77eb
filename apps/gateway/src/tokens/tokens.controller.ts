import { Controller, Get, UseGuards } from '@nestjs/common';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { AllProvidersKeyGuard } from '../auth/all-providers-key.guard.js';
import { tokenStatusView } from './token-status.view.js';

@Controller('tokens')
@UseGuards(AllProvidersKeyGuard)
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  /** State, expiry, last refresh and last error per provider; never a token value. */
  @Get()
  list() {
    return { providers: this.tokens.status().map(tokenStatusView) };
  }
}
