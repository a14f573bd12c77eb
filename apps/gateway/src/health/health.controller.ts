import { Controller, Get } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthCheckService) {}

  /**
   * Liveness: answers while the process serves. No dependency is checked on purpose: a provider
   * or Redis outage must not get healthy instances restarted (that is readiness' job).
   */
  @Get()
  async live(): Promise<{ status: 'ok' }> {
    await this.health.check([]);
    return { status: 'ok' };
  }
}
