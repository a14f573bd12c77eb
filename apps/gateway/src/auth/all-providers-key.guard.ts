import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../problem/problem.js';
import { ApiKeys } from './api-keys.js';

/** Routes about every provider at once (`/tokens`): only for a key allowed `*`. */
@Injectable()
export class AllProvidersKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = this.apiKeys.authenticate(request.headers['x-api-key']);
    if (!caller) throw new ProblemError('unauthenticated');
    if (!caller.allowsAll) throw new ProblemError('forbidden', { detail: 'this route needs a key allowed for *' });
    return true;
  }
}
