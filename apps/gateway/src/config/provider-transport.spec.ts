import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '../../../../libs/oauth-providers/test-support/transport-rig.js';
import { readTransport, tokenTransport } from './provider-transport.js';

const urls = { tokenUrl: 'https://auth.partner.example/token', apiUrl: 'http://api.partner.example/v1' };

describe('readTransport', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());

  const read = (env: Record<string, string>, now?: number) => {
    const problems: string[] = [];
    const transport = readTransport('ACME', env, problems, urls, now);
    return { transport, problems };
  };

  it('is undefined with nothing set: the provider is reached directly, as before', () => {
    expect(read({})).toEqual({ transport: undefined, problems: [] });
  });

  it('takes HTTPS_PROXY for the https: token URL and HTTP_PROXY for the http: API URL', () => {
    const { transport } = read({ HTTPS_PROXY: 'http://tls-egress:3128', http_proxy: 'http://plain-egress:3128' });
    expect(transport).toMatchObject({ tokenProxy: 'http://tls-egress:3128', apiProxy: 'http://plain-egress:3128' });
    expect(tokenTransport(transport, () => undefined)).toEqual({ proxy: 'http://tls-egress:3128' });
  });

  it.each([
    ['partner.example', 'http://egress:3128'],
    ['.partner.example', undefined],
    ['auth.partner.example', 'http://egress:3128'],
    ['*', undefined],
    ['api.partner.example:443', 'http://egress:3128'],
    ['api.partner.example:80', undefined],
  ])('applies NO_PROXY=%s to the API URL as proxy-from-env does', (noProxy, apiProxy) => {
    const { transport } = read({ HTTP_PROXY: 'http://egress:3128', NO_PROXY: noProxy });
    expect(transport?.apiProxy).toBe(apiProxy);
  });

  it('lets <NAME>_PROXY override the standard variables, none meaning direct', () => {
    expect(read({ HTTPS_PROXY: 'http://egress:3128', ACME_PROXY: 'none' }).transport).toBeUndefined();
    expect(read({ ACME_PROXY: 'http://u:p@own:8080' }).transport).toMatchObject({
      tokenProxy: 'http://u:p@own:8080',
      apiProxy: 'http://u:p@own:8080',
    });
  });

  it('reads the PEM material directly and from _FILE, and the expiry of the client certificate', () => {
    const { transport, problems } = read({
      ACME_TLS_CA_FILE: pki.paths.ca,
      ACME_TLS_CERT: pki.clientCert,
      ACME_TLS_KEY_FILE: pki.paths.clientKeyEncrypted,
      ACME_TLS_KEY_PASSPHRASE: pki.passphrase,
    });
    expect(problems).toEqual([]);
    expect(transport?.tls).toEqual({
      ca: pki.ca.trimEnd(),
      cert: pki.clientCert,
      key: pki.clientKeyEncrypted.trimEnd(),
      passphrase: pki.passphrase,
    });
    expect(transport?.certExpiresAt).toBeGreaterThan(Date.now());
  });

  it.each([
    [{ ACME_PROXY: 'ftp://egress' }, 'ACME_PROXY: must be an http:// or https:// URL, or none'],
    [{ ACME_PROXY: 'http://user:s3cret@ bad host' }, 'ACME_PROXY: must be an http:// or https:// URL, or none'],
    [{ HTTPS_PROXY: 'socks5://egress:1080' }, 'HTTPS_PROXY: must be an http:// or https:// URL'],
    [{ ACME_TLS_CA: 'not a certificate' }, 'ACME_TLS_CA: not a PEM certificate bundle (no BEGIN CERTIFICATE block)'],
    [{ ACME_TLS_CA: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, /^ACME_TLS_CA: not a PEM certificate bundle \(.+\)$/],
    [{ ACME_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'ACME_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
    [{ ACME_TLS_CA_FILE: '/' }, 'ACME_TLS_CA_FILE: / is not a regular file'],
    [{ ACME_TLS_CERT: 'x' }, 'ACME_TLS_KEY: missing (ACME_TLS_CERT and ACME_TLS_KEY go together)'],
  ])('gives one problem line for %j, never the value', (env, line) => {
    const { transport, problems } = read(env);
    expect(transport).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(line);
    expect(problems[0]).not.toContain('s3cret');
  });

  it('refuses a client key that does not match the certificate, a wrong passphrase and an expired certificate', () => {
    expect(read({ ACME_TLS_CERT: pki.clientCert, ACME_TLS_KEY: pki.serverKey }).problems).toEqual([
      expect.stringMatching(/^ACME_TLS_KEY: does not match ACME_TLS_CERT, or cannot be opened \(.+\)$/),
    ]);
    const wrongPassphrase = { ACME_TLS_CERT: pki.clientCert, ACME_TLS_KEY: pki.clientKeyEncrypted, ACME_TLS_KEY_PASSPHRASE: 'wrong' };
    expect(read(wrongPassphrase).problems).toEqual([expect.stringMatching(/^ACME_TLS_KEY: does not match/)]);
    const inThreeDays = Date.now() + 3 * 86_400_000;
    expect(read({ ACME_TLS_CERT: pki.clientCert, ACME_TLS_KEY: pki.clientKey }, inThreeDays).problems).toEqual([
      expect.stringMatching(/^ACME_TLS_CERT: the client certificate expired on \d{4}-\d\d-\d\dT/),
    ]);
  });

  it('refuses a PEM file over 1 MiB and a variable set twice', () => {
    const big = join(pki.dir, 'big.pem');
    writeFileSync(big, 'x'.repeat(1024 * 1024 + 1));
    expect(read({ ACME_TLS_CA_FILE: big }).problems).toEqual([`ACME_TLS_CA_FILE: ${big} is larger than 1 MiB (not a secret file?)`]);
    expect(read({ ACME_TLS_CA: pki.ca, ACME_TLS_CA_FILE: pki.paths.ca }).problems).toEqual([
      'ACME_TLS_CA: set twice, directly and through ACME_TLS_CA_FILE (keep one)',
    ]);
  });

  it('leaves process.env as it was', () => {
    const before = process.env;
    read({ HTTPS_PROXY: 'http://egress:3128' });
    expect(process.env).toBe(before);
    expect(process.env.HTTPS_PROXY).toBe(before.HTTPS_PROXY);
  });
});
