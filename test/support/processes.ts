import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toDotenv } from '@oauth-gateway/provider-emulators';
import { waitUntil } from './helpers.js';

/** The repository root: where the npm scripts run. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a spawned command printed and how it ended. */
export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited: its code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (a test's clean-up). */
  kill(): void;
}

/**
 * The least environment a command needs (PATH, HOME for npm), plus `env`: nothing of the test
 * runner's leaks in (NODE_OPTIONS, a developer's provider variables...).
 */
export function cleanEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  return Object.fromEntries(Object.entries({ ...base, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
}

export function startProcess(
  command: string,
  args: string[],
  /** `detached`: the process leads a process group of its own, which a test can signal as a terminal or `kill %1` does. */
  options: { env?: Record<string, string | undefined>; cwd?: string; detached?: boolean } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (options.detached && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    },
  };
}

/** Runs a command to its end. */
export async function runProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
) {
  const running = startProcess(command, args, options);
  const { code, signal } = await running.exited;
  return { code, signal, stdout: running.stdout(), stderr: running.stderr() };
}

/** Waits until `url` answers 200 (a gateway's `/health`), or fails naming what the process said. */
export async function waitForHealth(url: string, running: RunningProcess, limitMs = 60_000): Promise<void> {
  await waitUntil(
    async () => {
      if (running.child.exitCode !== null)
        throw new Error(`the process exited ${running.child.exitCode}: ${running.stderr()}${running.stdout()}`);
      return fetch(url).then(
        (r) => r.ok,
        () => false,
      );
    },
    `${url} to answer`,
    limitMs,
  );
}

/** A throw-away folder, and an env file in it as `ENV_FILE` takes it. */
export function scratchDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    envFile(name: string, vars: Record<string, string>): string {
      const path = join(dir, name);
      writeFileSync(path, toDotenv(vars), { mode: 0o600 });
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The JSON log lines of a production gateway's stdout (other lines, such as a banner, are skipped). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
