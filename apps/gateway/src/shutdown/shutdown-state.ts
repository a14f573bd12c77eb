import { Injectable } from '@nestjs/common';

/**
 * Whether a graceful shutdown began, for everything that answers differently from then on:
 * readiness turns 503 and every answer says `connection: close`. Only the gateway's `close()` begins it.
 */
@Injectable()
export class ShutdownState {
  private began = false;

  get draining(): boolean {
    return this.began;
  }

  begin(): void {
    this.began = true;
  }
}
