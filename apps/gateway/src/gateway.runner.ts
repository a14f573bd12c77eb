import { ConfigValidationError, type Env } from './config/parse-config.js';
import { createGateway, type Gateway } from './gateway.factory.js';

export interface RunnerIo {
  exit(code: number): void;
  /** One line to stderr. */
  error(line: string): void;
}

const processIo: RunnerIo = {
  exit: (code) => process.exit(code),
  error: (line) => process.stderr.write(`${line}\n`),
};

/**
 * What `main.ts` does: start the gateway from the environment, or print why not and exit 1.
 * Stops cleanly (emulators included) on SIGTERM / SIGINT.
 */
export async function runGateway(env: Env, io: RunnerIo = processIo): Promise<Gateway | undefined> {
  let gateway: Gateway;
  try {
    gateway = await createGateway(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      io.error('Invalid configuration:');
      for (const problem of error.problems) io.error(`  ${problem}`);
    } else {
      // The message only: a stack or a cause may carry configuration values.
      io.error(`The gateway could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    io.exit(1);
    return undefined;
  }
  const stop = () => void gateway.close().then(() => io.exit(0), () => io.exit(1));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return gateway;
}
