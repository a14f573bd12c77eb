import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TokenService } from '@oauth-gateway/oauth-providers';

/** What a user's app does with the library: call a partner's API with the provider's headers. */
@Injectable()
export class PartnerClient {
  constructor(
    private readonly tokens: TokenService,
    private readonly config: ConfigService,
  ) {}

  async echo(provider: string): Promise<{ status: number; authorization?: string }> {
    const res = await fetch(`${this.config.getOrThrow<string>(`${provider.toUpperCase()}_API_URL`)}/echo`, {
      headers: { ...(await this.tokens.getRequestHeaders(provider)) },
    });
    const body = (await res.json()) as { headers?: Record<string, string> };
    return { status: res.status, authorization: body.headers?.authorization };
  }
}
