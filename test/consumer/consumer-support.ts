import { execFile, type ExecFileException } from 'node:child_process';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';

/** This run's environment without what `npm test` and Jest add: an outside app runs as a user's app would. */
export function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_(package|lifecycle)_|npm_config_local_prefix$|NODE_OPTIONS$|JEST_WORKER_ID$|INIT_CWD$)/.test(name),
    ),
  );
  return { ...env, ...extra };
}

/** An outside app's environment with the emulators' Prio and RFC 6749 (`IDP_*`) credentials, plus `extra`. */
export function emulatorAppEnv(emulators: ProviderEmulators, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const c = emulators.credentials;
  return outsideEnv({
    PRIO_TOKEN_URL: emulators.tokenUrl('prio'),
    PRIO_API_URL: emulators.apiUrl('prio'),
    PRIO_CLIENT_ID: c.prio.clientId,
    PRIO_CLIENT_SECRET: c.prio.clientSecret,
    IDP_TOKEN_URL: emulators.tokenUrl('oauth2'),
    IDP_API_URL: emulators.apiUrl('oauth2'),
    IDP_CLIENT_ID: c.oauth2.clientId,
    IDP_CLIENT_SECRET: c.oauth2.clientSecret,
    ...extra,
  });
}

/** Runs a command to its end; a failure carries the command's own output (tsc writes its errors to stdout). */
export function run(file: string, args: string[], cwd: string, timeoutMs: number, env = outsideEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error: ExecFileException | null, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${file} ${args.join(' ')} failed (${error.killed ? 'timed out' : `exit ${error.code}`}):\n${stdout}\n${stderr}`),
          );
        else resolve(stdout);
      },
    );
  });
}

/** npm without its audit and funding chatter. */
export const npm = (args: string[], cwd: string, timeoutMs: number, env = outsideEnv()) =>
  run('npm', [...args, '--no-audit', '--no-fund'], cwd, timeoutMs, env);
