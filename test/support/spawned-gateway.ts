import { spawn, type ChildProcess } from 'node:child_process';
// Gateway processes run from main.ts itself (as production runs it), for the caller-key suites.
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../libs/oauth-providers/test-support/redis-test-helpers.js';
import { freePort } from '../../scripts/redis-server.mjs';

const REGISTER = fileURLToPath(new URL('../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../../apps/gateway/src/main.ts', import.meta.url));

/** A real gateway process, run from the sources as `main.ts` runs in production (JSON logs on stdout). */
export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** Its JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Waits for a log line (logs are written in batches, at least every second). */
  waitForLog(test: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `main.ts` with exactly `env` (plus PATH and production logs) to its exit: the code and everything it wrote. */
export async function runGatewayToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', REGISTER, MAIN], {
    env: { PATH: process.env.PATH, PORT: String(await freePort()), HOST: '127.0.0.1', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

/** Starts `main.ts` with exactly `env` (plus PATH, a free loopback port, production logs) and waits until it serves. */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', REGISTER, MAIN], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const logs = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  await waitUntil(
    () => child.exitCode !== null || fetch(`${url}/health`).then((r) => r.ok, () => false),
    'the gateway process to serve',
    30_000,
  );
  if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}: ${output}`);
  return {
    url,
    child,
    output: () => output,
    logs,
    async waitForLog(test, what, timeoutMs = 20_000) {
      await waitUntil(() => logs().some(test), `a log line: ${what}`, timeoutMs);
      return logs().find(test)!;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The value of an unlabelled gauge (or one series, given its labels as written) in a /metrics text. */
export async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
