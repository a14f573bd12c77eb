import type { Clock } from '../src/interfaces/oauth-module-options.interface.js';

/** A clock tests move by hand; `sleep` records the wait and advances time at once. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}
