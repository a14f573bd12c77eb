import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess, metric } from '../support/gateway-process.js';
import { waitUntil } from '../support/helpers.js';
import { scratchDir } from '../support/processes.js';
import { renameOver } from '../support/secret-files.js';
import { makeTestPki, type TestPki } from '../../libs/oauth-providers/test-support/transport-rig.js';
import {
  issueClientCertificate,
  startRotatingMtlsServer,
  type IssuedCertificate,
  type RotatingMtlsServer,
} from '../../libs/oauth-providers/test-support/tls-rotation-rig.js';

/** In seconds, as the expiry gauge counts. */
const DAY = 86_400;

/**
 * A Kubernetes Secret mounted with its three TLS files: `<dir>/<name> -> ..data/<name>`, and an
 * update that writes a new version directory and renames a new `..data` link over the old one.
 */
function kubernetesTlsMount(
  dir: string,
  files: Record<string, string>,
): { paths: Record<string, string>; update(files: Record<string, string>): void } {
  let version = 0;
  const publish = (content: Record<string, string>) => {
    const versioned = `..2026_12_07_${++version}`;
    mkdirSync(join(dir, versioned));
    for (const [name, value] of Object.entries(content)) writeFileSync(join(dir, versioned, name), value);
    symlinkSync(versioned, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (version > 1) rmSync(join(dir, `..2026_12_07_${version - 1}`), { recursive: true });
  };
  mkdirSync(dir, { recursive: true });
  publish(files);
  const paths = Object.fromEntries(Object.keys(files).map((name) => [name, join(dir, name)]));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), paths[name]);
  return { paths, update: publish };
}

/**
 * A real gateway process whose partner (token endpoint and API on one server) requires client
 * certificates issued by CA-1. Under continuous traffic: the client certificate and key are rotated
 * as plain files written one after the other (provider `plain`) and as one `..data` swap (provider
 * `kube`), each with a CA bundle that adds CA-2; then the server switches to a certificate from CA-2;
 * then a key that does not match is written.
 */
describe('TLS files rotated under traffic, without a restart (real gateway process, real mTLS server)', () => {
  let ca1: TestPki;
  let ca2: TestPki;
  let next: IssuedCertificate;
  let server: RotatingMtlsServer;
  let gateway: GatewayProcess;
  const scratch = scratchDir('tls-rotation-');
  /** After the server's switch: every answer closes its connection, so that each request opens one with the new server certificate. */
  let closeEach = false;
  let tokens = 0;
  const statuses: Array<{ path: string; status: number }> = [];
  let traffic: Promise<void> | undefined;
  let stop = false;

  const partner = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', ...(closeEach && { connection: 'close' }) });
      if (req.url?.endsWith('/token')) res.end(JSON.stringify({ access_token: `tok-${++tokens}`, token_type: 'Bearer', expires_in: 1 }));
      else res.end(JSON.stringify({ path: req.url }));
    });
  };
  const plainDir = join(scratch.dir, 'plain');
  const plainPaths = { ca: join(plainDir, 'ca.pem'), cert: join(plainDir, 'client.pem'), key: join(plainDir, 'client.key') };
  let kube: ReturnType<typeof kubernetesTlsMount>;
  /** Requests the server saw from `provider` (its API under /<provider>/v1, its token at /<provider>/token) with this client certificate. */
  const seen = (provider: string, kind: 'api' | 'token', serial: string) =>
    server.seen.some(
      (c) => c.serial === serial && (kind === 'token' ? c.path === `/${provider}/token` : c.path.startsWith(`/${provider}/v1/`)),
    );

  beforeAll(async () => {
    ca1 = makeTestPki();
    ca2 = makeTestPki();
    // Valid for 5 days where the first one is for 2: the expiry gauge shows which one is in use.
    next = issueClientCertificate(ca1, 'next-client', 'gateway-client-next', 5);
    server = await startRotatingMtlsServer({ cert: ca1.serverCert, key: ca1.serverKey }, ca1.ca, partner);
    mkdirSync(plainDir);
    writeFileSync(plainPaths.ca, ca1.ca);
    writeFileSync(plainPaths.cert, ca1.clientCert);
    writeFileSync(plainPaths.key, ca1.clientKey);
    kube = kubernetesTlsMount(join(scratch.dir, 'kube'), { 'ca.crt': ca1.ca, 'tls.crt': ca1.clientCert, 'tls.key': ca1.clientKey });
    const provider = (name: string) => ({
      [`${name.toUpperCase()}_TOKEN_URL`]: `https://localhost:${server.port}/${name}/token`,
      [`${name.toUpperCase()}_API_URL`]: `https://localhost:${server.port}/${name}/v1`,
      [`${name.toUpperCase()}_CLIENT_ID`]: `${name}-client`,
      [`${name.toUpperCase()}_CLIENT_SECRET`]: 'client-secret',
    });
    gateway = await GatewayProcess.start({
      GATEWAY_API_KEYS: `${KEY_ALL}:*`,
      SANDBOX: 'false',
      LOG_LEVEL: 'info',
      TOKEN_REFRESH_SKEW_SECONDS: '0',
      OAUTH_PROVIDERS: 'plain,kube',
      ...provider('plain'),
      PLAIN_TLS_CA_FILE: plainPaths.ca,
      PLAIN_TLS_CERT_FILE: plainPaths.cert,
      PLAIN_TLS_KEY_FILE: plainPaths.key,
      ...provider('kube'),
      KUBE_TLS_CA_FILE: kube.paths['ca.crt'],
      KUBE_TLS_CERT_FILE: kube.paths['tls.crt'],
      KUBE_TLS_KEY_FILE: kube.paths['tls.key'],
    });
    const loop = async () => {
      for (let i = 0; !stop; i++) {
        const path = `/${i % 2 === 0 ? 'plain' : 'kube'}/things`;
        const res = await fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });
        await res.arrayBuffer();
        statuses.push({ path, status: res.status });
      }
    };
    traffic = Promise.all([loop(), loop(), loop(), loop()]).then(() => undefined);
    await waitUntil(() => statuses.length > 20, 'traffic flowing');
  }, 60_000);
  afterAll(async () => {
    stop = true;
    await traffic?.catch(() => undefined);
    await gateway?.stop();
    await server?.close();
    ca1?.remove();
    ca2?.remove();
    scratch.remove();
  });

  const failed = () => statuses.filter((s) => s.status !== 200);

  it('plain files written one after the other (CA bundle, certificate, key): new connections present the new certificate within 2 s, no request fails', async () => {
    expect(seen('plain', 'api', next.serial)).toBe(false);
    expect(await metric(gateway.url, 'gateway_tls_client_cert_expiry_seconds{provider="plain"}')).toBeLessThanOrEqual(2 * DAY);
    renameOver(plainPaths.ca, `${ca1.ca}${ca2.ca}`);
    renameOver(plainPaths.cert, next.cert);
    renameOver(plainPaths.key, next.key);
    await waitUntil(
      () => seen('plain', 'api', next.serial) && seen('plain', 'token', next.serial),
      'plain: the new certificate on API and token connections',
      2000,
    );
    expect(failed()).toEqual([]);
  }, 20_000);

  it('a Kubernetes ..data swap of the three files: the same', async () => {
    kube.update({ 'ca.crt': `${ca1.ca}${ca2.ca}`, 'tls.crt': next.cert, 'tls.key': next.key });
    await waitUntil(
      () => seen('kube', 'api', next.serial) && seen('kube', 'token', next.serial),
      'kube: the new certificate on API and token connections',
      2000,
    );
    expect(failed()).toEqual([]);
    expect(await metric(gateway.url, 'gateway_secret_reload_failed{provider="kube"}')).toBe(0);
    for (const provider of ['plain', 'kube'])
      expect(await metric(gateway.url, `gateway_tls_client_cert_expiry_seconds{provider="${provider}"}`)).toBeGreaterThan(4 * DAY);
    // The CA bundle alone is a good whole, put in use first; the pair follows once its second file is read.
    const reloaded = gateway.logs().filter((l) => l.msg === 'TLS files reloaded: new connections use the new material');
    expect(new Set(reloaded.map((l) => l.provider))).toEqual(new Set(['kube', 'plain']));
  }, 20_000);

  it('the server switching to a certificate from CA-2: trusted on every new connection, no request fails', async () => {
    server.useServerCertificate(ca2.serverCert, ca2.serverKey);
    closeEach = true;
    const handshakes = server.handshakes();
    const from = server.seen.length;
    // Every answer now closes its connection: a few dozen new connections, token endpoint included.
    await waitUntil(
      () => server.handshakes() - handshakes > 40 && server.seen.slice(from).some((c) => c.path.endsWith('/token')),
      'new connections to the switched server, a token request among them',
      10_000,
    );
    expect(failed()).toEqual([]);
    expect(new Set(server.seen.slice(from).map((c) => c.serial))).toEqual(new Set([next.serial]));
  }, 20_000);

  it('a key that does not match keeps the pair in use: one line naming the variable and the path, the metric at 1', async () => {
    renameOver(plainPaths.key, ca2.clientKey);
    const line = await gateway.waitForLog((l) => l.msg === 'TLS files not reloaded: the material in use stays', 'the refused pair', 10_000);
    expect(line).toMatchObject({ provider: 'plain', variable: 'PLAIN_TLS_KEY_FILE', path: plainPaths.key });
    expect(line.problem).toMatch(/^PLAIN_TLS_KEY: does not match PLAIN_TLS_CERT, or cannot be opened \(/);
    expect(await metric(gateway.url, 'gateway_secret_reload_failed{provider="plain"}')).toBe(1);
    const from = server.seen.length;
    await waitUntil(() => server.seen.slice(from).filter((c) => c.path.startsWith('/plain/')).length > 20, 'more plain traffic');
    expect(new Set(server.seen.slice(from).map((c) => c.serial))).toEqual(new Set([next.serial]));
    expect(failed()).toEqual([]);
    expect(gateway.logs().filter((l) => l.msg === 'TLS files not reloaded: the material in use stays')).toHaveLength(1);
    expect(gateway.output()).not.toContain('PRIVATE KEY');
  }, 30_000);
});
