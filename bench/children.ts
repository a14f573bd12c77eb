import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes of the benchmark: every one is tracked and killed when the benchmark ends,
 * normally or not, and every wait on one is bounded in time.
 */
const live = new Set<ChildProcess>();
/** Grandchildren that would outlive their parent's SIGKILL (nginx's worker). */
const pids = new Set<number>();

export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
}
process.on('exit', killAll);

/** Kills `child` with the others when the benchmark ends. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Kills `pid` too when the benchmark ends, unless it has been let go by then. */
export function trackPid(pid: number): () => void {
  pids.add(pid);
  return () => pids.delete(pid);
}

export function spawnNode(script: string, args: string[], options: SpawnOptions & { execArgv?: string[] } = {}): ChildProcess {
  const { execArgv = [], ...rest } = options;
  return track(spawn(process.execPath, [...execArgv, script, ...args], rest));
}

/** Resolves when the child exits (or at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** The first IPC message of the child that satisfies `test`. */
export function nextMessage<T>(child: ChildProcess, test: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!test(message as T)) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: the process exited (code ${code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Runs a script that prints one JSON line, and parses it; killed after `timeoutMs`. */
export async function runJson<T>(script: string, args: string[], timeoutMs: number, execArgv: string[] = []): Promise<T> {
  const child = spawnNode(script, args, { stdio: ['ignore', 'pipe', 'pipe'], execArgv });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited(child);
  clearTimeout(timer);
  const line = out.trim().split('\n').pop() ?? '';
  try {
    if (code !== 0) throw new Error(`exit code ${code}`);
    return JSON.parse(line) as T;
  } catch (error) {
    throw new Error(`${script} failed (${(error as Error).message}): ${err.trim().slice(-2000) || line.slice(-500)}`);
  }
}

/** A port free on the loopback right now (the child binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `url` until it answers 200, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process serving ${url} exited (code ${child.exitCode}): ${stderr().slice(-2000)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${stderr().slice(-2000)}`);
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU time a process has used so far (user + system, all its threads), in seconds, from
 * `/proc/<pid>/stat`: what a request costs does not depend on how the CPUs were shared.
 */
export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident set size of a process, in bytes, from `/proc/<pid>/status`. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Samples a process's RSS every `intervalMs` (50 ms) until stopped; keeps the peak. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  peak = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  /** The mean of a few samples over `ms`: the level before the work starts. */
  async baseline(ms = 300): Promise<number> {
    let sum = 0;
    let n = 0;
    for (const end = Date.now() + ms; Date.now() < end; n++) {
      sum += rssBytes(this.pid);
      await sleep(this.intervalMs);
    }
    return sum / Math.max(1, n);
  }

  start(): void {
    this.peak = rssBytes(this.pid);
    this.samples = 1;
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, rssBytes(this.pid));
      this.samples++;
    }, this.intervalMs);
  }

  stop(): number {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rssBytes(this.pid));
    return this.peak;
  }
}

/**
 * A named pipe (FIFO) whose lines the benchmark reads and counts, as a container runtime reads a
 * container's stdout. Node's `stdio: 'pipe'` is a socket pair, which nginx cannot open as a file.
 */
export class LogPipe {
  private reader: Socket;
  private count = 0;

  constructor(readonly path: string) {
    execFileSync('mkfifo', ['-m', '600', path]);
    // Read and write: opening a FIFO for reading alone would block until a writer opens it.
    this.reader = new Socket({ fd: openSync(path, 'r+'), readable: true, writable: false });
    this.reader.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.count++;
    });
  }

  /** A write end to hand to a child as its stdout (close it in the parent once the child has it). */
  openWriter(): number {
    return openSync(this.path, 'w');
  }

  lines(): number {
    return this.count;
  }

  close(): void {
    this.reader.destroy();
  }
}

/** Runs a bench entry point: every child is killed and `scratch` removed however it ends (done, failed, Ctrl-C). */
export function runBench(main: () => Promise<void>, scratch: string): void {
  const stopAll = (code: number) => {
    killAll();
    rmSync(scratch, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => stopAll(130));
  process.once('SIGTERM', () => stopAll(143));
  main().then(
    () => stopAll(0),
    (error: unknown) => {
      process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : String(error)}\n`);
      stopAll(1);
    },
  );
}
