import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/**
 * Nest's own logs (bootstrap, `new Logger('TokenService')` in the library, the exception filter)
 * written through the gateway's redacting root pino logger. Not nestjs-pino: its per-request
 * middleware would run on every request (the proxy's included, since middie matches all of them)
 * and its AsyncLocalStorage switches on promise hooks that tax every promise of the process, for
 * nothing when no Nest route logs per request.
 *
 * Nest's calling convention: `log(message, ...params, context?)`, `error(message, stack?, context?)`;
 * a trailing string is the context. Objects become fields (so redaction applies to them), errors
 * go under `err`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const last = params.at(-1);
    const rest = typeof last === 'string' ? params.slice(0, -1) : params;
    if (typeof last === 'string') fields.context = last;
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level](Object.assign(fields, message));
    } else if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at ')) {
      // `error(message, stack, context)`: the stack belongs to the line, not to its interpolation values.
      fields.err = { message: String(message), stack: rest[0] };
      this.logger.error(fields, String(message));
    } else {
      this.logger[level](fields, String(message), ...rest);
    }
  }
}
