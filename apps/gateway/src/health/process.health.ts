import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ShutdownState } from '../shutdown/shutdown-state.js';

/** The drain's check: camelCase, so that no provider (lower case and dashes) can be named the same. */
export const DRAINING_CHECK = 'gatewayDraining';

/** Indicators of the gateway process itself, apart from the providers and the store it depends on. */
@Injectable()
export class ProcessHealth {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownState,
  ) {}

  /**
   * Liveness: up whenever the process gets to answer. No dependency is checked on purpose: a
   * provider or Redis outage must not get healthy instances restarted (that is readiness' job).
   */
  serving(): HealthIndicatorResult {
    return this.indicators.check('process').up();
  }

  /** Down from the first SIGTERM, so that a load balancer stops sending while in-flight requests finish. */
  draining(): HealthIndicatorResult {
    const session = this.indicators.check(DRAINING_CHECK);
    return this.shutdown.draining ? session.down() : session.up();
  }
}
