import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenHttpClient } from '../src/interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../src/interfaces/token-transport.interface.js';
import { oauth2 } from '../src/strategies/oauth2.strategy.js';

/** A token endpoint that answers every request, once read, with `accessToken` for an hour. */
export const answerToken =
  (accessToken: string): RequestListener =>
  (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600 }));
    });
  };

/** One token request of an `oauth2` provider named `partner` through `http`, over `transport`. */
export function requestTokenOver(http: TokenHttpClient, tokenUrl: string, transport: TokenTransport | undefined) {
  const strategy = oauth2({ name: 'partner', tokenUrl, clientId: 'id', clientSecret: 'secret', transport });
  return strategy.requestToken({ http, transport: strategy.transport });
}

/** A throwaway private CA with a server certificate (localhost, *.partner.test, 127.0.0.1) and a client certificate. */
export interface TestPki {
  dir: string;
  /** Paths of each PEM, for the `_FILE` variables. */
  paths: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; clientKeyEncrypted: string };
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** `clientKey` encrypted with `passphrase`. */
  clientKeyEncrypted: string;
  passphrase: string;
  remove(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Made with the `openssl` CLI in a scratch directory; valid for two days. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'test-pki-'));
  openssl(dir, ['req', '-x509', ...P256, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test Private CA']);
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, ['req', ...P256, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    openssl(
      dir,
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`].concat([
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ]),
    );
  };
  issue('server', '/CN=localhost', 'subjectAltName=DNS:localhost,DNS:*.partner.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=gateway-client', 'extendedKeyUsage=clientAuth\n');
  const passphrase = 'test-key-passphrase';
  openssl(dir, ['pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'client-encrypted.key']);
  const paths = {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    clientKeyEncrypted: join(dir, 'client-encrypted.key'),
  };
  const read = (path: string) => readFileSync(path, 'utf8');
  return {
    dir,
    paths,
    ca: read(paths.ca),
    serverCert: read(paths.serverCert),
    serverKey: read(paths.serverKey),
    clientCert: read(paths.clientCert),
    clientKey: read(paths.clientKey),
    clientKeyEncrypted: read(paths.clientKeyEncrypted),
    passphrase,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTPS server on loopback that requires a client certificate issued by the test CA. */
export interface MtlsServer {
  port: number;
  /** Subjects (CN) of the client certificates presented, one per request. */
  clients: string[];
  /** TLS connections open now. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export async function startMtlsServer(pki: TestPki, handler: RequestListener): Promise<MtlsServer> {
  const clients: string[] = [];
  const server: Server = createServer(
    { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      clients.push(String(peer.subject?.CN ?? ''));
      handler(req, res);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clients,
    connections: () =>
      new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A forward proxy process (see forward-proxy.main.mjs) and what it was asked. */
export interface ForwardProxy {
  port: number;
  /** `http://127.0.0.1:<port>`, with `user:pass@` when started with credentials. */
  url: string;
  requests: Array<{ method: string; target: string; credentials: boolean }>;
  close(): Promise<void>;
}

const PROXY_MAIN = fileURLToPath(new URL('./forward-proxy.main.mjs', import.meta.url));

export async function startForwardProxy(credentials?: string): Promise<ForwardProxy> {
  const child = spawn(process.execPath, [PROXY_MAIN], {
    env: { PATH: process.env.PATH, ...(credentials !== undefined && { PROXY_CREDENTIALS: credentials }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const requests: ForwardProxy['requests'] = [];
  let partial = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the forward proxy exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else if (line.startsWith('{')) requests.push(JSON.parse(line) as ForwardProxy['requests'][0]);
      }
    });
  });
  return {
    port,
    url: `http://${credentials === undefined ? '' : `${credentials}@`}127.0.0.1:${port}`,
    requests,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
