import { Controller, Get } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { ProcessHealth } from './process.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly process: ProcessHealth,
  ) {}

  /** Liveness: 200 while the process serves; Terminus answers 503 itself once the app is closing. */
  @Get()
  async live(): Promise<{ status: 'ok' }> {
    await this.health.check([() => this.process.serving()]);
    return { status: 'ok' };
  }
}
