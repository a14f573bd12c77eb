import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { exited, freePort, LogPipe, track, trackPid, waitForHttp } from '../children.js';

/**
 * A peer of the gateway: nginx with one worker, as a user would configure it in front of one
 * provider (a fixed Authorization header, keep-alive to the upstream), its configuration generated
 * into a temp directory and the server on the loopback. Found on PATH only: the bench installs nothing.
 */

export const NGINX_SKIPPED = 'nginx: not on PATH, its row is skipped (Debian: apt-get install nginx)';

/** The first executable `nginx` in the PATH given, or undefined. */
export function findNginx(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface NginxConfigOptions {
  /** Directory for the pid file and nginx's temp paths. */
  dir: string;
  /** Where the access log goes: a named pipe the bench reads. */
  accessLog: string;
  port: number;
  /** The upstream base, e.g. http://127.0.0.1:4000/prio/api. */
  upstream: string;
  authorization: string;
}

/** A value nginx takes literally inside double quotes: no variables (`$`), quotes, backslashes or line breaks. */
function quoted(name: string, value: string): string {
  if (/["\\$\r\n]/.test(value)) throw new Error(`nginx peer: the ${name} holds a character this configuration does not escape`);
  return `"${value}"`;
}

/**
 * The configuration: one worker, in the foreground, the access log in the default combined format to
 * a named pipe the bench reads (as a container runtime reads the official image's log, which goes to
 * stdout), errors to stderr, and a keep-alive pool to the upstream as the gateway and the other peers have.
 */
export function nginxConfig(o: NginxConfigOptions): string {
  const upstream = new URL(o.upstream);
  if (upstream.protocol !== 'http:') throw new Error(`nginx peer: plain http upstreams only, not ${o.upstream}`);
  const base = upstream.pathname.replace(/\/+$/, '');
  const temp = (name: string) => `${name}_temp_path ${join(o.dir, `${name}-temp`)};`;
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${join(o.dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${o.accessLog} combined;`,
    `  ${temp('client_body')}`,
    `  ${temp('proxy')}`,
    `  ${temp('fastcgi')}`,
    `  ${temp('uwsgi')}`,
    `  ${temp('scgi')}`,
    '  keepalive_timeout 65s;',
    '  keepalive_requests 100000;',
    `  upstream provider { server ${upstream.host}; keepalive 128; }`,
    '  server {',
    `    listen 127.0.0.1:${o.port};`,
    '    location / {',
    `      proxy_pass http://provider${base}/;`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    `      proxy_set_header Host ${quoted('upstream host', upstream.host)};`,
    `      proxy_set_header Authorization ${quoted('Authorization header', o.authorization)};`,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The pids whose parent is `pid`, from /proc. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface Nginx {
  proc: ChildProcess;
  url: string;
  /** The one worker, whose CPU time is charged to each request. */
  workerPid: number;
  /** Access lines read from its named pipe so far. */
  accessLines(): number;
  stop(): Promise<void>;
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts nginx with a configuration generated into a new directory under `parent` (removed by `stop`). */
export async function startNginx(
  binary: string,
  o: Omit<NginxConfigOptions, 'dir' | 'port' | 'accessLog'> & { parent?: string },
): Promise<Nginx> {
  const dir = mkdtempSync(join(o.parent ?? tmpdir(), 'nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const accessLog = new LogPipe(join(dir, 'access.fifo'));
  writeFileSync(conf, nginxConfig({ ...o, dir, port, accessLog: accessLog.path }));
  // -e: errors before the configuration is read go to stderr too, not to the packaged /var/log path.
  const proc = track(spawn(binary, ['-p', dir, '-c', conf, '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  let release = () => {};
  const stop = async () => {
    const workers = proc.pid ? childPids(proc.pid) : [];
    if (proc.exitCode === null && proc.signalCode === null) {
      // SIGQUIT: graceful shutdown, the worker closes its idle keep-alive connections and exits.
      proc.kill('SIGQUIT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited(proc);
      clearTimeout(timer);
    }
    for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    release();
    accessLog.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/echo`, proc, 10_000, () => stderr);
    const workers = childPids(proc.pid!);
    if (workers.length !== 1) throw new Error(`nginx: expected one worker process, found ${workers.length}`);
    // Killed with the bench's other children if the bench ends early (a worker outlives a SIGKILLed master).
    release = trackPid(workers[0]);
    return { proc, url, workerPid: workers[0], accessLines: () => accessLog.lines(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
