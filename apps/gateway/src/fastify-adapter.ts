import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError, problemForStatus, type ProblemCode } from './problem/problem.js';
import { replyProblem } from './problem/problem.filter.js';
import type { GatewayServer } from './proxy/gateway-server.js';

/**
 * Fastify for the app's own routes, behind the gateway's server: Fastify runs on that server,
 * every route it registers is recorded there as the app's own (the rest is the proxy's), and its
 * router's and parser's errors are answered as problems like every other.
 */
export function fastifyAdapter(server: GatewayServer): FastifyAdapter {
  const adapter = new FastifyAdapter({
    serverFactory: server.serverFactory,
    logger: false,
    requestIdHeader: false,
    frameworkErrors: routerError,
    clientErrorHandler: server.clientError,
  });
  adapter.getInstance().addHook('onRoute', ({ method, url }) => server.addOwnRoute(method, url));
  return adapter;
}

/** The router's own 400/414 (malformed URL...) as problems too. */
function routerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const code: ProblemCode = error.code === 'FST_ERR_BAD_URL' ? 'invalid_path' : problemForStatus(error.statusCode ?? 400);
  replyProblem(request, reply, new ProblemError(code));
}
