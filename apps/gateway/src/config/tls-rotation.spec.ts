import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { waitUntil } from '../../../../test/support/helpers.js';
import { renameOver, startWatcher, tempDirectory, type WatcherRig } from '../../../../test/support/secret-files.js';
import { makeTestPki, type TestPki } from '../../../../libs/oauth-providers/test-support/transport-rig.js';
import { issueClientCertificate, type IssuedCertificate } from '../../../../libs/oauth-providers/test-support/tls-rotation-rig.js';
import { providerSecretFiles } from './provider-secret-files.js';
import { checkTls, type ProviderTls } from './provider-transport.js';
import { TlsRotation } from './tls-rotation.js';

/** As a `_FILE` read gives it: one trailing line break removed. */
const read = (pem: string) => pem.replace(/\r?\n$/, '');
const DAY = 86_400_000;

describe('TlsRotation: a provider TLS files checked as a whole on each change (real files, real watcher)', () => {
  let pki: TestPki;
  let next: IssuedCertificate;
  let dir: ReturnType<typeof tempDirectory>;
  let rig: WatcherRig | undefined;
  let rotation: TlsRotation | undefined;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  const logged = (msg: string) => lines.filter((line) => line.msg === msg);

  beforeAll(() => {
    pki = makeTestPki();
    next = issueClientCertificate(pki, 'next-client', 'gateway-client-next');
  });
  afterEach(() => {
    rig?.watcher.close();
    rotation?.close();
    rig = rotation = undefined;
    dir.remove();
    lines.length = 0;
  });
  afterAll(() => pki.remove());

  /** `acme` with its CA, certificate and key in files, watched; `now` is the rotation's clock. */
  async function start(now = Date.now, graceMs = 150) {
    dir = tempDirectory('tls-rotation-');
    const paths = { ca: join(dir.path, 'ca.pem'), cert: join(dir.path, 'client.pem'), key: join(dir.path, 'client.key') };
    writeFileSync(paths.ca, pki.ca);
    writeFileSync(paths.cert, pki.clientCert);
    writeFileSync(paths.key, pki.clientKey);
    const tls: ProviderTls = { ca: read(pki.ca), cert: read(pki.clientCert), key: read(pki.clientKey) };
    const providers = [
      { name: 'acme', clientSecret: 's', transport: { tls, certExpiresAt: checkTls('ACME', tls, Date.now()).certExpiresAt } },
    ];
    const env = { ACME_TLS_CA_FILE: paths.ca, ACME_TLS_CERT_FILE: paths.cert, ACME_TLS_KEY_FILE: paths.key };
    const files = providerSecretFiles(env, providers);
    const changes: string[] = [];
    rotation = new TlsRotation(providers, files, { logger, graceMs, now });
    rotation.onChange((provider) => changes.push(provider));
    rig = await startWatcher(files, { changed: (provider, field) => rotation!.changed(provider, field) });
    rotation.follow(rig.watcher);
    return { paths, files, changes, rotation, watcher: rig.watcher };
  }

  it('watches the TLS files with the PEM size limit, the passphrase as a secret', async () => {
    const { files } = await start();
    expect(files.map(({ field, variable, maxBytes }) => ({ field, variable, maxBytes }))).toEqual([
      { field: 'tlsCa', variable: 'ACME_TLS_CA_FILE', maxBytes: 1024 * 1024 },
      { field: 'tlsCert', variable: 'ACME_TLS_CERT_FILE', maxBytes: 1024 * 1024 },
      { field: 'tlsKey', variable: 'ACME_TLS_KEY_FILE', maxBytes: 1024 * 1024 },
    ]);
  });

  it('keeps the pair in use while only the certificate changed, and switches once the key agrees, without a line of error', async () => {
    // A long grace: the key written right after the certificate is read well within it, however slow the machine.
    const { paths, changes, rotation, watcher } = await start(Date.now, 10_000);
    renameOver(paths.cert, next.cert);
    await waitUntil(() => watcher.current('acme', 'tlsCert') === read(next.cert), 'the new certificate read');
    expect(rotation.tls('acme')?.cert).toBe(read(pki.clientCert));
    expect(rotation.failed('acme')).toBe(false);
    renameOver(paths.key, next.key);
    await waitUntil(() => rotation.tls('acme')?.cert === read(next.cert), 'the new pair in use');
    expect(rotation.tls('acme')).toEqual({ ca: read(pki.ca), cert: read(next.cert), key: read(next.key) });
    expect(changes).toEqual(['acme']);
    expect(logged('TLS files reloaded: new connections use the new material')).toHaveLength(1);
    expect(lines.filter((line) => line.level === 50)).toEqual([]);
    expect(rotation.failed('acme')).toBe(false);
  });

  it('reports a pair still mismatched after the grace once, naming the variable and the path, until a good pair', async () => {
    const { paths, changes, rotation } = await start();
    renameOver(paths.key, next.key);
    await waitUntil(() => rotation.failed('acme'), 'the mismatch reported');
    expect(rotation.tls('acme')?.key).toBe(read(pki.clientKey));
    const [line] = logged('TLS files not reloaded: the material in use stays');
    expect(line).toMatchObject({ provider: 'acme', variable: 'ACME_TLS_KEY_FILE', path: paths.key });
    expect(line.problem).toMatch(/^ACME_TLS_KEY: does not match ACME_TLS_CERT, or cannot be opened \(/);
    expect(JSON.stringify(lines)).not.toContain('PRIVATE KEY');
    renameOver(paths.cert, next.cert);
    await waitUntil(() => !rotation.failed('acme'), 'the good pair in use');
    expect(rotation.tls('acme')?.cert).toBe(read(next.cert));
    expect(logged('TLS files not reloaded: the material in use stays')).toHaveLength(1);
    expect(changes).toEqual(['acme']);
  });

  it('refuses a CA file that is no certificate bundle and keeps the CA in use', async () => {
    const { paths, rotation } = await start();
    renameOver(paths.ca, 'not a certificate\n');
    await waitUntil(() => rotation.failed('acme'), 'the bad bundle reported');
    expect(logged('TLS files not reloaded: the material in use stays')[0]).toMatchObject({
      variable: 'ACME_TLS_CA_FILE',
      path: paths.ca,
      problem: 'ACME_TLS_CA: not a PEM certificate bundle (no BEGIN CERTIFICATE block)',
    });
    expect(rotation.tls('acme')?.ca).toBe(read(pki.ca));
    renameOver(paths.ca, `${pki.ca}${pki.ca}`);
    await waitUntil(() => rotation.tls('acme')?.ca === read(`${pki.ca}${pki.ca}`), 'the new bundle in use');
    expect(rotation.failed('acme')).toBe(false);
  });

  it('refuses an expired certificate, as start-up does', async () => {
    const { paths, rotation } = await start(() => Date.now() + 3 * DAY);
    renameOver(paths.cert, next.cert);
    renameOver(paths.key, next.key);
    await waitUntil(() => rotation.failed('acme'), 'the expired certificate reported');
    expect(logged('TLS files not reloaded: the material in use stays')[0]).toMatchObject({
      variable: 'ACME_TLS_CERT_FILE',
      problem: expect.stringMatching(/^ACME_TLS_CERT: the client certificate expired on /) as unknown,
    });
    expect(rotation.tls('acme')?.cert).toBe(read(pki.clientCert));
  });

  it('follows the certificate in use for its expiry', async () => {
    const { paths, rotation } = await start();
    const longer = issueClientCertificate(pki, 'longer-client', 'gateway-client-longer', 5);
    const before = rotation.certExpiresAt('acme')!;
    renameOver(paths.cert, longer.cert);
    renameOver(paths.key, longer.key);
    await waitUntil(() => rotation.tls('acme')?.cert === read(longer.cert), 'the new pair in use');
    expect(rotation.certExpiresAt('acme')! - before).toBeGreaterThan(2 * DAY);
  });
});
