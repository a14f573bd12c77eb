import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parseGatewayConfig } from './parse-config.js';
import { PRIO_WITHOUT_SECRET as PRIO, problems } from '../../../../test/support/gateway-config.js';

const dir = mkdtempSync(join(tmpdir(), 'secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file holding `content`, as Docker or Kubernetes mount a secret. */
function secretFile(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('<SECRET>_FILE', () => {
  it("reads a provider's client secret from a file, without the trailing newline mounted secrets have", () => {
    const config = parseGatewayConfig({ ...PRIO, PRIO_CLIENT_SECRET_FILE: secretFile('prio', 's3cr%t:with/odd+chars=\n') });
    expect(config.providers[0]).toMatchObject({ name: 'prio', clientSecret: 's3cr%t:with/odd+chars=' });
  });

  it('reads passwords (built-in and generic), TOKEN_ENCRYPTION_KEY and REDIS_URL the same way', () => {
    const key = Buffer.alloc(32, 7);
    const config = parseGatewayConfig({
      SABRE_TOKEN_URL: 'https://api.platform.sabre.com/v3/auth/token',
      SABRE_API_URL: 'https://api.platform.sabre.com',
      SABRE_CLIENT_ID: 'V1:abc',
      SABRE_CLIENT_SECRET_FILE: secretFile('sabre-secret', 'sabre-secret\r\n'),
      SABRE_USERNAME: 'user-group-domain',
      SABRE_PASSWORD_FILE: secretFile('sabre-password', 'epr-password\n'),
      OAUTH_PROVIDERS: 'my-idp',
      MY_IDP_TOKEN_URL: 'https://idp.example/token',
      MY_IDP_API_URL: 'https://api.example',
      MY_IDP_CLIENT_ID: 'idp-app',
      MY_IDP_CLIENT_SECRET_FILE: secretFile('idp-secret', 'idp-secret'),
      MY_IDP_GRANT_TYPE: 'password',
      MY_IDP_USERNAME: 'svc',
      MY_IDP_PASSWORD_FILE: secretFile('idp-password', 'idp-password\n'),
      REDIS_URL_FILE: secretFile('redis', 'redis://:pw@127.0.0.1:6379/0\n'),
      TOKEN_ENCRYPTION_KEY_FILE: secretFile('key', `${key.toString('base64')}\n`),
    });
    expect(config.providers).toEqual([
      expect.objectContaining({ name: 'sabre', clientSecret: 'sabre-secret', password: 'epr-password' }),
      expect.objectContaining({ name: 'my-idp', clientSecret: 'idp-secret', password: 'idp-password' }),
    ]);
    expect(config.redis?.url).toBe('redis://:pw@127.0.0.1:6379/0');
    expect(config.tokenEncryptionKey).toEqual(key);
  });

  it('refuses a secret set both directly and through a file', () => {
    expect(problems({ ...PRIO, PRIO_CLIENT_SECRET: 'inline-secret', PRIO_CLIENT_SECRET_FILE: secretFile('both', 'file-secret') })).toEqual([
      'PRIO_CLIENT_SECRET: set twice, directly and through PRIO_CLIENT_SECRET_FILE (keep one)',
    ]);
  });

  it('names the variable of a file that cannot be read, an empty one or one too big, never what it holds', () => {
    const big = secretFile('big', Buffer.alloc(70 * 1024, 'x'));
    const lines = problems({
      ...PRIO,
      PRIO_CLIENT_SECRET_FILE: join(dir, 'missing'),
      TOKEN_ENCRYPTION_KEY_FILE: secretFile('empty', '\n'),
      REDIS_URL_FILE: big,
      PAYME_PASSWORD_FILE: dir,
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        `PRIO_CLIENT_SECRET_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
        `TOKEN_ENCRYPTION_KEY_FILE: ${join(dir, 'empty')} is empty`,
        `REDIS_URL_FILE: ${big} is larger than 64 KiB (not a secret file?)`,
        `PAYME_PASSWORD_FILE: ${dir} is not a regular file`,
      ]),
    );
    expect(lines.join('\n')).not.toContain('xxxx');
  });

  it('validates what a file holds like the variable itself, without printing it', () => {
    const lines = problems({
      ...PRIO,
      PRIO_CLIENT_SECRET: 's',
      TOKEN_ENCRYPTION_KEY_FILE: secretFile('short-key', 'too-short-key-value\n'),
    });
    expect(lines).toEqual(['TOKEN_ENCRYPTION_KEY: must be 32 bytes, base64 or hex encoded']);
  });

  it('leaves other *_FILE variables alone', () => {
    expect(() =>
      parseGatewayConfig({ ...PRIO, PRIO_CLIENT_SECRET: 's', PRIO_CLIENT_ID_FILE: join(dir, 'missing'), LOG_FILE: '/x' }),
    ).not.toThrow();
  });
});
