import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Agent } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createProxyMiddleware } from 'http-proxy-middleware';

/**
 * A peer of the gateway: a Nest app on `@nestjs/platform-express` whose one middleware is
 * `http-proxy-middleware`, as a user would write it by hand in front of one provider: one fixed
 * Authorization header added to every call (no token fetching, no API keys, no access log).
 * Run as a child of `run.ts`: PEER_UPSTREAM=http://127.0.0.1:port/prio/api PEER_AUTHORIZATION='Bearer x'.
 */
@Module({})
class ProxyModule {}

const authorization = process.env.PEER_AUTHORIZATION ?? '';
// The body is left unparsed so that it streams through the proxy.
const app = await NestFactory.create<NestExpressApplication>(ProxyModule, { logger: false, bodyParser: false });
// Without an agent, http-proxy asks the upstream to close each connection and passes that on to the client.
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
app.use(createProxyMiddleware({ target: process.env.PEER_UPSTREAM, changeOrigin: true, headers: { authorization }, agent }));
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });

const stop = () => void app.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
