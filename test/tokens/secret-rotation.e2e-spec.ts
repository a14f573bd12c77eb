import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess, metric } from '../support/gateway-process.js';
import { waitUntil } from '../support/helpers.js';
import { scratchDir } from '../support/processes.js';

/** The partner's rotated secret, for the same client: its token endpoint accepts both while the rotation runs. */
const NEXT_SECRET = 'next:S3cr%41t+/rotated==';

/** `PRIO_CLIENT_SECRET_FILE` rewritten under a running gateway process: the next token request sends the new value. */
describe('a client secret rotated through its file, without a restart (real gateway process)', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;
  const scratch = scratchDir('secret-rotation-');
  const secretFile = join(scratch.dir, 'prio-client-secret');
  /** As Kubernetes and most tools replace a file: written beside it, then renamed over it. */
  const rotate = (value: string) => {
    writeFileSync(`${secretFile}.new`, `${value}\n`);
    renameSync(`${secretFile}.new`, secretFile);
  };
  const call = async () => {
    const res = await fetch(`${gateway.url}/prio/echo`, { headers: { 'x-api-key': KEY_ALL } });
    const body = (await res.json()) as { headers?: { authorization?: string } };
    return { status: res.status, token: body.headers?.authorization?.replace(/^Bearer /, '') };
  };
  const ownerSecret = (token: string | undefined) => (token === undefined ? undefined : emulators.tokenOwner('prio', token)?.clientSecret);

  beforeAll(async () => {
    emulators = await startProviderEmulators({ credentials: { prio: [{}, { clientSecret: NEXT_SECRET }] } });
    emulators.setTokenLifetime('prio', 1);
    rotate(emulators.credentials.prio.clientSecret);
    const env = { ...emulatorEnv(emulators), PRIO_CLIENT_SECRET_FILE: secretFile, TOKEN_REFRESH_SKEW_SECONDS: '0', LOG_LEVEL: 'info' };
    delete (env as Record<string, string | undefined>).PRIO_CLIENT_SECRET;
    gateway = await GatewayProcess.start(env);
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.close();
    scratch.remove();
  });

  it('under steady traffic: no failed request, and the tokens obtained after the change were asked with the new secret', async () => {
    const first = await call();
    expect(first.status).toBe(200);
    expect(ownerSecret(first.token)).toBe(emulators.credentials.prio.clientSecret);
    const statuses: number[] = [];
    rotate(NEXT_SECRET);
    // One-second tokens: renewals keep coming while the traffic runs, each asked with the secret in force.
    await waitUntil(
      async () => {
        const answer = await call();
        statuses.push(answer.status);
        return ownerSecret(answer.token) === NEXT_SECRET;
      },
      'a token asked with the rotated secret',
      10_000,
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await metric(gateway.url, 'gateway_secret_reload_failed{provider="prio"}')).toBe(0);
    expect(gateway.output()).not.toContain(NEXT_SECRET);
  }, 30_000);

  it('a rejected secret fixed in its file ends the cool-down at once, not after TOKEN_REJECTED_COOLDOWN_SECONDS', async () => {
    rotate('not:the-secret');
    await waitUntil(async () => (await call()).status !== 200, 'the wrong secret refused', 10_000);
    rotate(NEXT_SECRET);
    // The default cool-down is 30 s: an answer within 10 s can only come from the change ending it.
    await waitUntil(async () => (await call()).status === 200, 'served again with the fixed secret', 10_000);
  }, 30_000);
});
