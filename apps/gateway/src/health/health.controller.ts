import { Controller, Get } from '@nestjs/common';

@Controller('health')
export class HealthController {
  /** Liveness: answers while the process serves. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
