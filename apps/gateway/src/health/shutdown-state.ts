import { Injectable } from '@nestjs/common';

/** Whether a graceful shutdown began: readiness turns 503 and answers say `connection: close` from then on. */
@Injectable()
export class ShutdownState {
  draining = false;
}
