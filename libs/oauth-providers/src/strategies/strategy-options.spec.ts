import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import { latamPass, oauth2, payme, prio, sabre, transatel } from './index.js';

const client = { tokenUrl: 'https://auth.example/oauth/token', clientId: 'app-1', clientSecret: 's3cr3t:value' };

/** Every built-in factory with valid options, so a test can spoil one option at a time. */
const FACTORIES: Array<[provider: string, build: (overrides: Record<string, unknown>) => unknown]> = [
  ['latam', (o) => latamPass({ ...client, ...o })],
  ['transatel', (o) => transatel({ ...client, ...o })],
  ['prio', (o) => prio({ ...client, ...o })],
  ['sabre', (o) => sabre({ ...client, username: 'epr-group-domain', password: 'pw', ...o })],
  ['payme', (o) => payme({ ...client, audience: 'https://api.example', ...o })],
  ['idp', (o) => oauth2({ name: 'idp', ...client, ...o })],
];

/** The configuration error `build` throws; fails the test if it throws anything else or nothing. */
function configurationErrorOf(build: () => unknown): OAuthConfigurationError {
  try {
    build();
  } catch (error) {
    if (error instanceof OAuthConfigurationError) return error;
    throw new Error(`expected an OAuthConfigurationError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the options to be refused');
}

describe('built-in strategies refuse options that cannot work, when they are built', () => {
  describe.each(FACTORIES)('%s', (provider, build) => {
    it('accepts complete options', () => {
      expect(() => build({})).not.toThrow();
    });

    it.each([
      ['clientId', ''],
      ['clientId', '   '],
      ['clientSecret', ''],
      ['clientSecret', undefined],
      ['tokenUrl', ''],
    ])('refuses %s = %j, naming the provider and the option', (option, value) => {
      const error = configurationErrorOf(() => build({ [option]: value }));
      expect(error).toMatchObject({ provider, option });
      expect(error.message).toBe(`OAuth provider "${provider}": ${option} must be a non-empty string`);
    });

    it.each(['auth.example/token', 'https://', 'http://[::1', '/oauth/token'])(
      'refuses a token URL that does not parse (%s)',
      (tokenUrl) => {
        expect(configurationErrorOf(() => build({ tokenUrl }))).toMatchObject({
          provider,
          option: 'tokenUrl',
          message: `OAuth provider "${provider}": tokenUrl is not a URL (it does not parse)`,
        });
      },
    );

    it('refuses a token URL that is not http(s)', () => {
      expect(configurationErrorOf(() => build({ tokenUrl: 'ftp://auth.example/token' }))).toMatchObject({
        option: 'tokenUrl',
        message: expect.stringMatching(/http: or https:/),
      });
    });

    it('never echoes the value it refuses (it may be a secret)', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 6 }).filter((url) => url.trim().length >= 6),
          (tokenUrl) => {
            try {
              build({ tokenUrl });
            } catch (error) {
              expect(error).toBeInstanceOf(OAuthConfigurationError);
              expect((error as Error).message).not.toContain(tokenUrl.trim());
            }
          },
        ),
      );
    });
  });

  it('refuses an empty name given to a built-in strategy, under its default name', () => {
    expect(configurationErrorOf(() => prio({ ...client, name: '' }))).toMatchObject({ provider: 'prio', option: 'name' });
  });

  it('sabre needs the EPR user and its password', () => {
    expect(configurationErrorOf(() => sabre({ ...client, username: '', password: 'pw' }))).toMatchObject({
      provider: 'sabre',
      option: 'username',
    });
    expect(configurationErrorOf(() => sabre({ ...client, username: 'epr', password: '' }))).toMatchObject({
      provider: 'sabre',
      option: 'password',
    });
  });

  it('payme needs an audience, and username and password together or not at all', () => {
    const base = { ...client, audience: 'https://api.example' };
    expect(configurationErrorOf(() => payme({ ...base, audience: '' }))).toMatchObject({ provider: 'payme', option: 'audience' });
    expect(configurationErrorOf(() => payme({ ...base, username: 'me@example.com' }))).toMatchObject({ option: 'password' });
    expect(configurationErrorOf(() => payme({ ...base, password: 'pw' }))).toMatchObject({ option: 'username' });
    expect(payme({ ...base, username: 'me@example.com', password: 'pw' }).identity).toContain('|password|');
    expect(payme(base).identity).toContain('|client_credentials|');
  });

  it('oauth2 needs a name, a known grant and auth method, and a user for the password grant', () => {
    expect(configurationErrorOf(() => oauth2({ ...client, name: '' }))).toMatchObject({ provider: 'oauth2', option: 'name' });
    expect(configurationErrorOf(() => oauth2({ ...client, name: 'idp', grantType: 'implicit' as never }))).toMatchObject({
      provider: 'idp',
      option: 'grantType',
      message: `OAuth provider "idp": grantType must be one of 'client_credentials', 'password'`,
    });
    expect(configurationErrorOf(() => oauth2({ ...client, name: 'idp', authMethod: 'none' as never }))).toMatchObject({
      option: 'authMethod',
    });
    expect(configurationErrorOf(() => oauth2({ ...client, name: 'idp', grantType: 'password', username: 'svc' }))).toMatchObject({
      option: 'password',
    });
  });
});
