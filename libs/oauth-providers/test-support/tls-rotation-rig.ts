/**
 * Certificates rotated under real TLS servers: more certificates from a test CA (`makeTestPki`), and
 * an HTTPS server that requires a client certificate from one CA, reports each request's client
 * certificate (subject and serial) and can switch its own certificate for new connections.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { TestPki } from './transport-rig.js';

/** A certificate and its key, as PEM and as files in the PKI's directory. */
export interface IssuedCertificate {
  cert: string;
  key: string;
  paths: { cert: string; key: string };
  /** Upper-case hex, as `getPeerCertificate().serialNumber` gives it. */
  serial: string;
}

/** A client certificate (CN `subject`) signed by the PKI's CA, valid for `days`. */
export function issueClientCertificate(pki: TestPki, name: string, subject: string, days = 2): IssuedCertificate {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
  writeFileSync(join(pki.dir, `${name}.ext`), 'extendedKeyUsage=clientAuth\n');
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${subject}`,
  ]);
  run([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
  ]);
  const paths = { cert: join(pki.dir, `${name}.pem`), key: join(pki.dir, `${name}.key`) };
  const cert = readFileSync(paths.cert, 'utf8');
  return { cert, key: readFileSync(paths.key, 'utf8'), paths, serial: new X509Certificate(cert).serialNumber.toUpperCase() };
}

/** What the server saw of one request's connection. */
export interface SeenClient {
  subject: string;
  serial: string;
  /** The request's path. */
  path: string;
}

export interface RotatingMtlsServer {
  port: number;
  /** One entry per request, in order. */
  seen: SeenClient[];
  /** TLS handshakes completed: a new connection each. */
  handshakes(): number;
  /** TLS connections open now. */
  connections(): Promise<number>;
  /** New connections get this certificate; open ones keep theirs. */
  useServerCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

/** Requires a client certificate issued by `clientCa`, and presents `cert`/`key` until told otherwise. */
export async function startRotatingMtlsServer(
  server: { cert: string; key: string },
  clientCa: string,
  handler: RequestListener,
): Promise<RotatingMtlsServer> {
  const seen: SeenClient[] = [];
  let handshakes = 0;
  const https = createServer({ ...server, ca: clientCa, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ subject: String(peer.subject?.CN ?? ''), serial: String(peer.serialNumber ?? '').toUpperCase(), path: req.url ?? '' });
    handler(req, res);
  });
  https.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  return {
    port: (https.address() as AddressInfo).port,
    seen,
    handshakes: () => handshakes,
    connections: () =>
      new Promise<number>((resolve, reject) => https.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    useServerCertificate: (cert, key) => https.setSecureContext({ cert, key, ca: clientCa }),
    close: () =>
      new Promise<void>((resolve) => {
        https.closeAllConnections();
        https.close(() => resolve());
      }),
  };
}
