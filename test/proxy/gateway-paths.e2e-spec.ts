import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EmulatedEndpoint } from '@oauth-gateway/provider-emulators';
import { KEY_ALL, problemOf, send, sendRaw, startHarness, type Harness } from '../support/gateway-harness.js';

const ENDPOINTS: EmulatedEndpoint[] = ['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'];

describe('paths that would leave the provider base URL', () => {
  let h: Harness;
  const upstreamCalls = () => ENDPOINTS.reduce((n, p) => n + h.emulators.apiRequests(p), 0);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it.each([
    '/prio/../admin',
    '/prio/./products',
    '/prio/products/..',
    '/prio/%2e%2e/admin',
    '/prio/%2E%2e/admin',
    '/prio/.%2e/admin',
    '/prio/%2e./admin',
    '/prio/%252e%252e/admin',
    '/prio/%252E%252E%252Fadmin',
    '/prio/..%2fadmin',
    '/prio/..%2F..%2Fadmin',
    '/prio/a%5c..%5cadmin',
    '/prio/..\\admin',
    '/prio//evil.example/x',
    '/prio/a//b',
    '/prio/%00',
    '/prio/a%0d%0aSet-Cookie:%20x=1',
    '/prio/..;/admin',
    '/../prio/products',
  ])('refuses %s with 400 invalid_path and sends nothing upstream', async (target) => {
    const before = upstreamCalls();
    const answer = await send(h.url, target, { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(answer)).toMatchObject({ status: 400, code: 'invalid_path' });
    expect(upstreamCalls()).toBe(before);
  });

  it.each([
    ['an absolute-form request line', 'GET http://evil.example/prio/products HTTP/1.1'],
    ['an absolute-form line aimed at a static route', 'GET http://evil.example/health HTTP/1.1'],
    ['a raw NUL in the target', 'GET /prio/a\u0000b HTTP/1.1'],
    ['a raw control character in the target', 'GET /prio/a\u0001/b HTTP/1.1'],
  ])('refuses %s with a 400 problem and sends nothing upstream', async (_name, line) => {
    const before = upstreamCalls();
    const answer = await sendRaw(h.url, `${line}\r\nHost: gateway\r\nx-api-key: ${KEY_ALL}\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(400);
    expect(answer.head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ status: 400, type: 'about:blank', code: 'invalid_path' });
    expect(upstreamCalls()).toBe(before);
  });

  it('still forwards ordinary names with dots, encoded spaces and a trailing slash', async () => {
    const answer = await send(h.url, '/prio/files/report.v2..final/a%20b/?x=..%2F', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body) as { path: string; query: string };
    expect(seen.path).toBe('/prio/api/files/report.v2..final/a%20b/');
    expect(seen.query).toBe('x=..%2F');
  });
});
