import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { FaultUpstream } from './fault-upstream.js';
import { GatewayProcess, type GatewayTestOptions } from './gateway-process.js';
import { freePort } from './helpers.js';
import { FAST_RETRY, KEY_ALL } from './gateway-harness.js';

/**
 * A port whose listener accepts nothing: a stopped process listening with a backlog of 1, its
 * queue filled by a few connections of ours, so that the kernel drops every further SYN and a
 * connection attempt times out (instead of being refused).
 */
export class Blackhole {
  private child!: ChildProcess;
  private readonly fillers: Socket[] = [];
  port = 0;

  async start(): Promise<void> {
    const code = "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>process.send(s.address().port))";
    this.child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    this.port = await new Promise<number>((resolve) => this.child.once('message', (port) => resolve(port as number)));
    this.child.kill('SIGSTOP');
    // The accept queue holds backlog + 1 connections; the rest of ours stay half-open, as the gateway's will.
    for (let i = 0; i < 4; i++) {
      const socket = connect(this.port, '127.0.0.1');
      socket.on('error', () => undefined);
      this.fillers.push(socket);
    }
  }

  close(): void {
    for (const socket of this.fillers) socket.destroy();
    this.child.kill('SIGKILL');
  }
}

export interface RigOptions {
  /** How many providers whose first token request hangs (one per "waiting for a token" case). */
  tokenProviders: number;
  env?: Record<string, string>;
  gateway?: GatewayTestOptions;
}

/**
 * A gateway process in front of: the RFC 6749 emulator as every provider's token endpoint
 * (connections closed after each answer), a misbehaving API (`up`, `t1`…`tN` for the token cases),
 * a refused port (`refused`) and a port that never completes a connection (`blackhole`).
 */
export class FaultRig {
  emulators!: ProviderEmulators;
  readonly upstream = new FaultUpstream();
  readonly blackhole = new Blackhole();
  gateway!: GatewayProcess;
  tokenProviders: string[] = [];

  async start(options: RigOptions): Promise<void> {
    this.emulators = await startProviderEmulators({ keepAlive: false });
    await this.upstream.start();
    await this.blackhole.start();
    const refused = await freePort();
    this.tokenProviders = Array.from({ length: options.tokenProviders }, (_, i) => `t${i + 1}`);
    const apis: Record<string, string> = {
      up: this.upstream.apiUrl('up'),
      refused: `http://127.0.0.1:${refused}/api`,
      blackhole: `http://127.0.0.1:${this.blackhole.port}/api`,
      ...Object.fromEntries(this.tokenProviders.map((name) => [name, this.upstream.apiUrl(name)])),
    };
    const credentials = this.emulators.credentials.oauth2;
    const env: Record<string, string> = {
      GATEWAY_API_KEYS: `${KEY_ALL}:*`,
      SANDBOX: 'false',
      TOKEN_WARM_ON_START: 'false',
      LOG_LEVEL: 'info',
      OAUTH_PROVIDERS: Object.keys(apis).join(','),
    };
    for (const [name, api] of Object.entries(apis)) {
      const prefix = name.toUpperCase();
      Object.assign(env, {
        [`${prefix}_TOKEN_URL`]: this.emulators.tokenUrl('oauth2'),
        [`${prefix}_API_URL`]: api,
        [`${prefix}_CLIENT_ID`]: credentials.clientId,
        [`${prefix}_CLIENT_SECRET`]: credentials.clientSecret,
      });
    }
    this.gateway = await GatewayProcess.start({ ...env, ...options.env }, { oauth: { retry: FAST_RETRY }, ...options.gateway });
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    this.blackhole.close();
    await this.upstream.close();
    await this.emulators?.close();
  }
}
