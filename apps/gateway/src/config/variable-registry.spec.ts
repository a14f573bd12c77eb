import { describe, expect, it } from '@jest/globals';
import { parseGatewayConfig } from './parse-config.js';
import { GATEWAY_VARIABLES, HARNESS_VARIABLES, providerVariableNames, VariableRegistry } from './variable-registry.js';
import { startupWarnings } from './variable-registry.checks.js';
import { BUILT_IN_PROVIDERS } from './providers/provider-registry.js';
import { PRIO } from '../../../../test/support/gateway-config.js';

const BUILT_INS = BUILT_IN_PROVIDERS.map((name) => ({ name, type: name, listed: false }));
const registry = (...extra: Array<{ name: string; type: 'prio' | 'oauth2'; listed: true }>) =>
  new VariableRegistry([...BUILT_INS, ...extra]);

/** The problem lines of `env`, none when it is accepted. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseGatewayConfig(env);
    return [];
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
}

/** The warnings of a gateway started with `env` (which must be a valid configuration). */
const warningsOf = (env: Record<string, string>) => parseGatewayConfig(env).warnings;

describe('the variable registry', () => {
  it("holds the gateway's own variables, the harness's, and each configured provider's with _FILE where a file is accepted", () => {
    expect(GATEWAY_VARIABLES).toEqual(
      expect.arrayContaining(['PORT', 'ENV_FILE', 'CONFIG_STRICT', 'KEYS_FILE_MAX_BYTES', 'REDIS_URL_FILE']),
    );
    expect(GATEWAY_VARIABLES).toEqual(expect.arrayContaining(['OTEL_TRACES_EXPORTER', 'HTTPS_PROXY', 'no_proxy', 'LOG_LEVEL', 'NODE_ENV']));
    expect(HARNESS_VARIABLES).toEqual(expect.arrayContaining(['GATEWAY_TEST_OPTIONS', 'TEST_REDIS_URL', 'TEST_PROMTOOL']));
    const prio = providerVariableNames({ name: 'prio', type: 'prio', listed: false });
    expect(prio).toEqual(expect.arrayContaining(['PRIO_CLIENT_SECRET_FILE', 'PRIO_TLS_KEY_FILE', 'PRIO_SCOPE', 'PRIO_PROXY']));
    expect(prio).not.toContain('PRIO_CLIENT_ID_FILE');
    expect(prio).not.toContain('PRIO_TYPE');
    const listed = providerVariableNames({ name: 'my-idp', type: 'oauth2', listed: true });
    expect(listed).toEqual(expect.arrayContaining(['MY_IDP_TYPE', 'MY_IDP_PRIVATE_KEY_FILE', 'MY_IDP_PASSWORD_FILE', 'MY_IDP_GRANT_TYPE']));
  });

  it('names the closest known variable for each misspelling of the issue, one line each', () => {
    const names = ['PRIO_CLIENTID', 'PRIO_SCOPES', 'UPSTREAM_TIMEOUT', 'MAX_BODY_SIZE', 'PRIO_CLIENT_ID_FILE', 'PRIO_TOKENURL'];
    expect(registry().unknownLines(names)).toEqual([
      'MAX_BODY_SIZE: not a variable the gateway reads; did you mean MAX_BODY_BYTES?',
      'PRIO_CLIENTID: not a variable the gateway reads; did you mean PRIO_CLIENT_ID?',
      expect.stringMatching(
        /^PRIO_CLIENT_ID_FILE: not a variable the gateway reads; PRIO_CLIENT_ID cannot be given as a file \(only \*_CLIENT_SECRET, /,
      ),
      'PRIO_SCOPES: not a variable the gateway reads; did you mean PRIO_SCOPE?',
      'PRIO_TOKENURL: not a variable the gateway reads; did you mean PRIO_TOKEN_URL?',
      'UPSTREAM_TIMEOUT: not a variable the gateway reads; did you mean UPSTREAM_TIMEOUT_MS?',
    ]);
  });

  it('says nothing of known variables, of names under no owned prefix, nor of Kubernetes service links', () => {
    const names = ['PORT', 'PATH', 'HOME', 'OTEL_LOG_LEVEL', 'PRIO_CLIENT_SECRET_FILE', 'GATEWAY_TEST_OPTIONS', 'SANDBOX'];
    const links = ['REDIS_SERVICE_HOST', 'REDIS_SERVICE_PORT', 'REDIS_SERVICE_PORT_REDIS', 'REDIS_PORT', 'REDIS_PORT_6379_TCP'];
    const more = ['REDIS_PORT_6379_TCP_ADDR', 'REDIS_PORT_6379_TCP_PROTO', 'GATEWAY_PORT_53_UDP', 'PRIO_PORT_443_TCP_PORT'];
    expect(registry().unknownLines([...names, ...links, ...more])).toEqual([]);
    expect(registry().unknownLines(['SANDBOX_MODE', 'REDIS_HOST', 'ADMIN_PROT'])).toEqual([
      'ADMIN_PROT: not a variable the gateway reads; did you mean ADMIN_PORT?',
      'REDIS_HOST: not a variable the gateway reads; did you mean REDIS_URL?',
      'SANDBOX_MODE: not a variable the gateway reads; did you mean SANDBOX?',
    ]);
  });

  it("takes another configured name's variables as known (prio and prio-eu), and suggests under the longest prefix", () => {
    const eu = { name: 'prio-eu', type: 'prio', listed: true } as const;
    expect(registry(eu).unknownLines(['PRIO_EU_TOKEN_URL', 'PRIO_EU_TYPE', 'PRIO_EU_CLIENT_SECRET_FILE'])).toEqual([]);
    expect(registry(eu).unknownLines(['PRIO_EU_SCOPES'])).toEqual([
      'PRIO_EU_SCOPES: not a variable the gateway reads; did you mean PRIO_EU_SCOPE?',
    ]);
    // Without prio-eu listed, PRIO_EU_* is under prio's prefix and nobody reads it.
    expect(registry().unknownLines(['PRIO_EU_SCOPE'])).toEqual([
      'PRIO_EU_SCOPE: not a variable the gateway reads; did you mean PRIO_SCOPE?',
    ]);
  });
});

describe('start-up warnings and the rules around them', () => {
  const secret = 'value-that-must-never-show';

  it('a gateway with misspelt variables starts, with one warning line each and no value', () => {
    const lines = warningsOf({ ...PRIO, PRIO_CLIENTID: secret, PRIO_SCOPES: secret, MAX_BODY_SIZE: secret });
    expect(lines).toHaveLength(3);
    expect(lines!.join('\n')).not.toContain(secret);
  });

  it('CONFIG_STRICT=true turns each warning into a problem (exit 1, with the others)', () => {
    const env = { ...PRIO, CONFIG_STRICT: 'true', PRIO_SCOPES: 's', NODE_ENV: 'prod', PORT: 'x' };
    expect(problemsOf(env)).toEqual([
      'PORT: must be a whole number between 0 and 65535',
      'PRIO_SCOPES: not a variable the gateway reads; did you mean PRIO_SCOPE? (CONFIG_STRICT=true)',
      expect.stringMatching(/^NODE_ENV: "prod" is not production, development or test; .*\(CONFIG_STRICT=true\)$/),
    ]);
    expect(() => parseGatewayConfig({ ...PRIO, CONFIG_STRICT: 'yes' })).toThrow(/CONFIG_STRICT: must be true or false/);
  });

  it('NODE_ENV other than production, development or test is named, and the sandbox still starts (the issue: NODE_ENV=prod + PRIO_TOKENURL)', () => {
    const config = parseGatewayConfig({ NODE_ENV: 'prod', PRIO_TOKENURL: 'https://x/token' });
    expect(config.sandbox).toBe('auto');
    expect(config.production).toBe(false);
    expect(config.warnings).toEqual([
      'PRIO_TOKENURL: not a variable the gateway reads; did you mean PRIO_TOKEN_URL?',
      'NODE_ENV: "prod" is not production, development or test; it is treated as not production',
    ]);
    for (const value of ['production', 'development', 'test'])
      expect(warningsOf({ ...PRIO, NODE_ENV: value, GATEWAY_API_KEYS: 'k' })).toEqual([]);
  });

  it("GATEWAY_API_KEY without any key configured names both variables; next to GATEWAY_API_KEYS it is the CLI's and says nothing", () => {
    expect(warningsOf({ ...PRIO, GATEWAY_API_KEY: secret })).toEqual([
      expect.stringMatching(/^GATEWAY_API_KEY: the token CLI's variable, .*did you mean GATEWAY_API_KEYS \(or GATEWAY_API_KEYS_FILE\)\?$/),
    ]);
    expect(warningsOf({ ...PRIO, GATEWAY_API_KEY: secret, GATEWAY_API_KEYS: 'k' })).toEqual([]);
    expect(startupWarnings({ GATEWAY_API_KEY: secret }, [], 'cli')).toEqual([]);
  });

  it('production with no caller key exits 1 with one line saying what to set; SANDBOX=true and a keys file are allowed', () => {
    expect(problemsOf({ ...PRIO, NODE_ENV: 'production' })).toEqual([
      'GATEWAY_API_KEYS: no caller key is configured and NODE_ENV=production (every caller would get 401): set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE',
    ]);
    expect(problemsOf({ ...PRIO, NODE_ENV: 'production', GATEWAY_API_KEYS: '' })).toHaveLength(1);
    expect(problemsOf({ ...PRIO, NODE_ENV: 'production', GATEWAY_API_KEY: secret })).toEqual([
      expect.stringMatching(
        /set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE \(GATEWAY_API_KEY is the token CLI's variable: the gateway does not read it\)$/,
      ),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', SANDBOX: 'true' })).toEqual([]);
    expect(problemsOf({ ...PRIO, NODE_ENV: 'production', GATEWAY_API_KEYS_FILE: '/etc/keys.yaml' })).toEqual([]);
    expect(problemsOf({ ...PRIO, NODE_ENV: 'production', GATEWAY_API_KEYS: 'k' })).toEqual([]);
    // The token CLI serves no caller: it needs no key.
    expect(parseGatewayConfig({ ...PRIO, NODE_ENV: 'production' }, 'cli').apiKeys).toEqual([]);
  });
});
