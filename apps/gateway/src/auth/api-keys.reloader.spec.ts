import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { parseGatewayConfig } from '../config/parse-config.js';
import { SecretFileWatcher } from '../config/secret-file.watcher.js';
import { GATEWAY_LOGGER } from '../logging/gateway-logger.js';
import { PRIO } from '../../../../test/support/gateway-config.js';
import { GATEWAY_CONFIG } from '../config/gateway-config.js';
import { waitUntil } from '../../../../test/support/helpers.js';
import { clientSecret, rewrite, startWatcher, tempDirectory, type WatcherRig } from '../../../../test/support/secret-files.js';
import { ApiKeys } from './api-keys.js';
import { ApiKeysReloader, KEYS_REPLACED } from './api-keys.reloader.js';

/** The reloader as Nest builds it in the gateway, with or without a secret file watcher beside it. */
async function reloaderWith(watcher?: SecretFileWatcher, logger = pino({ enabled: false })): Promise<TestingModule> {
  const gateway = parseGatewayConfig({ ...PRIO, GATEWAY_API_KEYS: 'a-caller-key-of-32-characters-xx' });
  const module = await Test.createTestingModule({
    providers: [
      ApiKeysReloader,
      { provide: ApiKeys, useValue: new ApiKeys(gateway.apiKeys) },
      { provide: GATEWAY_CONFIG, useValue: gateway },
      { provide: GATEWAY_LOGGER, useValue: logger },
      { provide: KEYS_REPLACED, useValue: () => undefined },
      ...(watcher ? [{ provide: SecretFileWatcher, useValue: watcher }] : []),
    ],
  }).compile();
  await module.init();
  return module;
}

describe('SIGHUP reads the secret files again', () => {
  const dir = tempDirectory('secret-sighup-');
  let rig: WatcherRig | undefined;
  afterEach(() => rig?.watcher.close());
  afterAll(() => dir.remove());

  it('the keys reloader hands SIGHUP to the secret file watcher', async () => {
    const path = join(dir.path, 'prio-secret');
    writeFileSync(path, 'first');
    // The watch and the check are an hour away here: only SIGHUP reads.
    rig = await startWatcher([clientSecret('prio', path, 'first')], { settleMs: 3_600_000, maxWaitMs: 3_600_000, pollMs: 3_600_000 });
    const module = await reloaderWith(rig.watcher);
    rewrite(path, 'second');
    module.get(ApiKeysReloader).hangup();
    await waitUntil(() => rig!.logged('secret files read again').length === 1, 'the SIGHUP read');
    expect(rig.watcher.current('prio', 'clientSecret')).toBe('second');
  });

  it('the watcher is closed with the app: its watch is gone and nothing is read after', async () => {
    const path = join(dir.path, 'closed-secret');
    writeFileSync(path, 'first');
    rig = await startWatcher([clientSecret('prio', path, 'first')]);
    const module = await reloaderWith(rig.watcher);
    const watches = () => process.getActiveResourcesInfo().filter((type) => type === 'FSEventWrap').length;
    expect(watches()).toBeGreaterThan(0);
    await module.close();
    await waitUntil(() => watches() === 0, 'the directory watch to be closed');
    rewrite(path, 'second');
    await rig.watcher.reloadAll();
    expect(rig.watcher.current('prio', 'clientSecret')).toBe('first');
  });

  it('works as before without a watcher: no keys file, nothing to reload', async () => {
    const messages: string[] = [];
    const logger = pino({}, { write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg) });
    (await reloaderWith(undefined, logger)).get(ApiKeysReloader).hangup();
    expect(messages).toEqual(['SIGHUP ignored: no GATEWAY_API_KEYS_FILE to reload']);
  });
});
