import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { requestIdFor } from '../http/request-id.js';
import type { ProblemError } from '../problem/problem.js';
import { answerProblem } from './caller-answer.js';
import type { ParserAnswer } from './client-errors.js';
import type { ProxyEntry } from './gateway-server.js';
import { ProxyCall } from './proxy-call.js';
import type { ProxyContext } from './proxy-context.js';

/**
 * `ANY /{provider}/{path...}`, as the gateway's server sees it: each request becomes a `ProxyCall`
 * (authenticates the caller, checks the path, attaches the provider's token and streams the
 * request to the provider's API and its answer back), and the server's own refusals are answered
 * and logged the proxy's way. Works on Node's raw request and response: no body parsing, no
 * per-request objects beyond a `ProxyCall` and the headers it must build.
 */
export class ProxyHandler implements ProxyEntry {
  constructor(private readonly context: ProxyContext) {}

  readonly listener = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    const call = new ProxyCall(this.context, req, res, expectsContinue);
    void call.start();
  };

  refuse(req: IncomingMessage, res: ServerResponse, problem: ProblemError): void {
    const started = performance.now();
    const requestId = requestIdFor(req.headers['x-request-id']);
    const writtenBefore = req.socket.bytesWritten;
    answerProblem(req, res, problem, requestId, this.context.terms);
    this.context.log.refused(req, requestId, problem.status, req.socket.bytesWritten - writtenBefore, performance.now() - started);
  }

  parserRefused(answer: ParserAnswer, client: string): void {
    this.context.log.parserRefused(answer, client);
  }
}
