import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TokenService } from '#oauth-providers';
import { tokenStatusView } from '../tokens/token-status.view.js';

/** How long `/health/ready` waits for each provider's token before calling it not ready. */
export const READINESS_TIMEOUT_MS = Symbol('READINESS_TIMEOUT_MS');

@Controller('health')
export class ReadinessController {
  constructor(
    private readonly tokens: TokenService,
    @Inject(READINESS_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /**
   * Ready when every enabled provider can produce a token now: a cached one, or a renewal that
   * succeeds within the timeout (a slow one keeps running and serves the next callers).
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const results = await Promise.all(this.tokens.providers().map((p) => this.canGetToken(p)));
    const ready = results.every(Boolean);
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', providers: this.tokens.status().map(tokenStatusView) };
  }

  private canGetToken(provider: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, this.timeoutMs, false)));
    const attempt = this.tokens.getToken(provider).then(
      () => true,
      () => false,
    );
    return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
  }
}
