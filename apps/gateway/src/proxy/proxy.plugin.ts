import type { FastifyPluginAsync } from 'fastify';
import { ProxyHandler, type ProxyDependencies } from './proxy.handler.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The proxy as raw Fastify routes in their own encapsulated context, so that its catch-all
 * content-type parser (bodies pass through unread) applies to nothing else. The static routes
 * (`/health`, `/tokens`, `/metrics`) win over `/:provider/*` in find-my-way.
 */
export function proxyPlugin(deps: ProxyDependencies): FastifyPluginAsync {
  const proxy = new ProxyHandler(deps);
  const handler = proxy.handle.bind(proxy);
  return async (instance) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // HEAD is forwarded as HEAD, not answered by running GET.
    instance.route({ method: METHODS, url: '/:provider', handler, exposeHeadRoute: false });
    instance.route({ method: METHODS, url: '/:provider/*', handler, exposeHeadRoute: false });
    instance.addHook('onClose', async () => deps.upstreams.close());
  };
}
