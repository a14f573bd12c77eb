import { execFile, type ExecFileException } from 'node:child_process';

/** This run's environment without what `npm test` and Jest add: an outside app runs as a user's app would. */
export function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_(package|lifecycle)_|npm_config_local_prefix$|NODE_OPTIONS$|JEST_WORKER_ID$|INIT_CWD$)/.test(name),
    ),
  );
  return { ...env, ...extra };
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
