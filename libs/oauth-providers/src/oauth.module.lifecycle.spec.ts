import { afterEach, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Module, type INestApplicationContext, type OnApplicationBootstrap } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { Clock } from './interfaces/oauth-module-options.interface.js';
import { systemClock, type OAuthModuleOptions } from './oauth.options.js';
import { OAuthModule } from './oauth.module.js';
import { InMemoryTokenStore } from './stores/in-memory-token.store.js';
import { TokenStore } from './stores/token-store.interface.js';
import { TokenService } from './token/token.service.js';
import { ScriptedStrategy, unavailable } from '../test-support/scripted-strategy.js';

/** A store that records when it is waited for and closed, and what the app looked like then. */
class ProbeStore extends InMemoryTokenStore {
  readonly trace: string[] = [];
  onClose?: () => void;

  async ready(): Promise<boolean> {
    this.trace.push('ready asked');
    await new Promise((resolve) => setImmediate(resolve)); // a connection that takes a moment
    this.trace.push('ready');
    return true;
  }

  async close(): Promise<void> {
    this.onClose?.();
    this.trace.push('closed');
  }
}

/** An app provider that notes what it finds at bootstrap. */
@Injectable()
class BootstrapProbe implements OnApplicationBootstrap {
  constructor(
    private readonly tokens: TokenService,
    @Inject(TokenStore) private readonly store: ProbeStore,
  ) {}
  onApplicationBootstrap(): void {
    this.store.trace.push(`bootstrap with ${this.tokens.providers().join(',')}`);
  }
}

let app: INestApplicationContext | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(options: OAuthModuleOptions) {
  @Module({ providers: [BootstrapProbe] })
  class ProbeModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), OAuthModule.forRoot({ ...options, isGlobal: true }), ProbeModule],
  }).compile();
  app = await moduleRef.init();
  return app;
}

describe('OAuthModule lifecycle', () => {
  it('waits for the store and registers every strategy before any provider bootstraps', async () => {
    const store = new ProbeStore();
    await boot({ providers: [new ScriptedStrategy('one'), new ScriptedStrategy('two')], store, refresher: { enabled: false } });
    expect(store.trace).toEqual(['ready asked', 'ready', 'bootstrap with one,two']);
  });

  it('closes the store after the refresher has stopped and after renewals waiting between retries were told to give up', async () => {
    const store = new ProbeStore();
    const signals: AbortSignal[] = [];
    const clock: Clock = { now: () => Date.now(), sleep: (ms, signal) => (signals.push(signal!), systemClock.sleep(ms, signal)) };
    const down = new ScriptedStrategy('down').answers(unavailable('down'));
    const context = await boot({
      providers: [new ScriptedStrategy('up'), down],
      store,
      clock,
      retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, maxTotalMs: 300_000 },
      refresher: { warmOnStart: true },
    });
    const registry = context.get(SchedulerRegistry);
    const tokens = context.get(TokenService);
    await tokens.getToken('up');
    while (signals.length === 0) await new Promise((resolve) => setImmediate(resolve)); // 'down' waits between retries
    expect(registry.getTimeouts()).toContain('oauth-refresh:up');
    let atClose: { timeouts: string[]; retryAborted: boolean } | undefined;
    store.onClose = () => (atClose = { timeouts: registry.getTimeouts(), retryAborted: signals[0].aborted });
    await context.close();
    app = undefined;
    expect(atClose).toEqual({ timeouts: [], retryAborted: true });
    expect(store.trace.at(-1)).toBe('closed');
    expect(down.calls).toHaveLength(1);
  });
});
