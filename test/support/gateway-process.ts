import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { UpstreamStats } from '../../apps/gateway/src/proxy/upstreams.js';
import { until } from './gateway-harness.js';

/** What the suites may set that no environment variable does. */
export interface GatewayTestOptions {
  /** Connections per pool (default 128): a small pool makes "waiting for a pool slot" reachable. */
  upstreamConnections?: number;
  oauth?: { retry?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; maxTotalMs: number } };
}

const REGISTER = fileURLToPath(new URL('../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('./gateway-process.main.ts', import.meta.url));

/** Starts the gateway's entry with exactly `env` (plus PATH, a loopback host and production logs). */
export function spawnMain(env: Record<string, string>, options: GatewayTestOptions): ChildProcess {
  return spawn(process.execPath, ['--import', REGISTER, MAIN], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      NODE_ENV: 'production',
      ...env,
      GATEWAY_TEST_OPTIONS: JSON.stringify(options),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

/** Runs a gateway with exactly `env` to its exit (a start-up that fails): the code and everything it wrote. */
export async function runGatewayToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(env, {});
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

/** The value of an unlabelled gauge (or one series, given its labels as written) in a /metrics text. */
export async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * A real gateway process, started from the sources (`test/support/gateway-process.main.ts`, the
 * runner `main.ts` uses), its JSON log lines kept in memory, its descriptors and memory read from
 * `/proc`, its pools' statistics asked over IPC.
 */
export class GatewayProcess {
  readonly lines: string[] = [];
  private stderrText = '';
  private partial = '';
  private asked = 0;
  url = '';

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.lines.push(...lines.filter(Boolean));
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString('utf8')));
  }

  static async start(env: Record<string, string>, options: GatewayTestOptions = {}): Promise<GatewayProcess> {
    const child = spawnMain(env, options);
    const gateway = new GatewayProcess(child);
    gateway.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the gateway process did not start within 60 s: ${gateway.stderrText}`)), 60_000);
      child.on('message', (message: { ready?: string }) => {
        if (message.ready === undefined) return;
        clearTimeout(timer);
        resolve(message.ready);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the gateway process exited with ${code} before serving: ${gateway.stderrText}`));
      });
    });
    return gateway;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Everything the process wrote, stdout and stderr. */
  output(): string {
    return [...this.lines, this.partial, this.stderrText].join('\n');
  }

  /** Its JSON log lines so far. */
  logs(): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits for a log line, and returns the first that passes `test`. */
  async waitForLog(test: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    await until(() => this.logs().some(test), `a log line: ${what}`, timeoutMs);
    return this.logs().find(test)!;
  }

  /** Open descriptors of the process. */
  descriptors(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Resident memory, in bytes. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  }

  /** TCP connections of the process still trying to connect to `port` (state SYN_SENT). */
  connectingTo(port: number): number {
    const inodes = new Set(
      readdirSync(`/proc/${this.pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${this.pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined; // closed meanwhile
          }
        })
        .filter((inode): inode is string => inode !== undefined),
    );
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync(`/proc/${this.pid}/net/tcp`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length > 9 && f[2].endsWith(`:${hexPort}`) && f[3] === '02' && inodes.has(f[9])).length;
  }

  /** The upstream pools' statistics, summed. */
  stats(): Promise<UpstreamStats> {
    const id = ++this.asked;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no pool statistics within 10 s')), 10_000);
      const onMessage = (message: { id?: number; stats?: UpstreamStats }) => {
        if (message.id !== id || !message.stats) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message.stats);
      };
      this.child.on('message', onMessage);
      this.child.send({ id });
    });
  }

  /** The parsed log lines with this request id (the access line is the one with `msg: proxied`). */
  logged(reqId: string): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line.includes(`"reqId":"${reqId}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  accessLine(reqId: string): Record<string, unknown> | undefined {
    return this.logged(reqId).find((line) => line.msg === 'proxied');
  }

  async waitForAccessLine(reqId: string): Promise<Record<string, unknown>> {
    await until(() => this.accessLine(reqId) !== undefined, `the access line of ${reqId}`);
    return this.accessLine(reqId)!;
  }

  /** SIGTERM and the exit code (SIGKILL after 15 s). */
  async stop(): Promise<number | null> {
    if (!this.alive()) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
