import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestIdFor } from '../http/request-id.js';
import { ProblemError, problemForStatus, renderProblem } from './problem.js';

/**
 * Every error leaving a Nest route (and Nest's own 404 and Fastify's errors, which Nest routes
 * here) as `application/problem+json`. Unexpected errors are logged and answered 500 without
 * their message, which might hold anything.
 */
@Catch()
export class ProblemExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    replyProblem(request, reply, toProblem(exception, this.logger));
  }
}

/** A problem as Fastify's reply (Nest's routes, Fastify's router errors). */
export function replyProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError): void {
  const { status, headers, body } = renderProblem(problem, requestIdFor(request.headers?.['x-request-id']));
  // A Buffer, so that Fastify does not append a charset: one content type for every problem.
  reply.code(status).headers(headers).send(Buffer.from(body));
}

function toProblem(exception: unknown, logger: Logger): ProblemError {
  if (exception instanceof ProblemError) return exception;
  const status =
    exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ProblemError(problemForStatus(status));
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return new ProblemError('internal_error');
}
