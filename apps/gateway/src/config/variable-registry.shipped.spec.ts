import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { parseGatewayConfig } from './parse-config.js';
import { BUILT_IN_PROVIDERS } from './providers/provider-registry.js';
import { VariableRegistry } from './variable-registry.js';
import { ROOT } from '../../../../test/support/processes.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The `env:` names of every container of the base Deployment, and what the example overlay's `gateway.env` sets. */
function kubernetesEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const document of parseAllDocuments(read('deploy/kubernetes/base/deployment.yaml'))) {
    const containers = (document.toJS() as { spec?: { template?: { spec?: { containers?: unknown[] } } } }).spec?.template?.spec
      ?.containers;
    for (const container of (containers ?? []) as Array<{ env?: Array<{ name: string; value?: string }> }>) {
      for (const { name, value } of container.env ?? []) env[name] = value ?? '';
    }
  }
  return { ...env, ...(parseEnv(read('deploy/kubernetes/overlays/example/gateway.env')) as Record<string, string>) };
}

/** Our own examples are what operators copy: none may give a warning, so none fails under CONFIG_STRICT=true. */
describe('the shipped examples under CONFIG_STRICT=true', () => {
  it('.env.example starts as it is (a sandbox) with no warning', () => {
    const env = parseEnv(read('.env.example')) as Record<string, string>;
    expect(Object.keys(env).length).toBeGreaterThan(40);
    expect(parseGatewayConfig({ ...env, CONFIG_STRICT: 'true' }).warnings).toEqual([]);
  });

  it("the Kubernetes manifests' environment has no unknown variable (secret files aside, which the cluster mounts)", () => {
    const env = kubernetesEnv();
    const builtIns = BUILT_IN_PROVIDERS.map((name) => ({ name, type: name, listed: false }));
    expect(new VariableRegistry(builtIns).unknownLines(Object.keys(env))).toEqual([]);
    expect(env).toMatchObject({ ADMIN_PORT: '9100' });
    expect(env).toHaveProperty('PRIO_CLIENT_ID');
    // The files exist only in the pod: the keys and secrets are given inline here, their names checked all the same.
    const files = ['GATEWAY_API_KEYS_FILE', 'TOKEN_ENCRYPTION_KEY_FILE', 'REDIS_URL_FILE', 'PRIO_CLIENT_SECRET_FILE'];
    for (const name of files) expect(env).toHaveProperty(name);
    const inline = Object.fromEntries(Object.entries(env).filter(([name]) => !files.includes(name)));
    const config = parseGatewayConfig({
      ...inline,
      GATEWAY_API_KEYS: 'k',
      PRIO_CLIENT_SECRET: 's',
      REDIS_URL: 'redis://redis:6379',
      TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
      NODE_ENV: 'production',
      CONFIG_STRICT: 'true',
    });
    expect(config.warnings).toEqual([]);
    expect(config.providers.map((p) => p.name)).toEqual(['prio']);
  });
});
