import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_EMULATOR_CREDENTIALS as C, startProviderEmulators, type ProviderEmulators } from './index.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;

const PRIO_US = { clientId: 'prio-distributor.us', clientSecret: 'us:secret/2' };
const SABRE_APAC = { clientId: 'V1-apac-app', clientSecret: 'apac:S3cret', username: 'pcc-apac', password: 'apac:pw' };

describe('emulators holding several accounts of one partner', () => {
  let emu: ProviderEmulators;
  beforeAll(async () => {
    emu = await startProviderEmulators({ credentials: { prio: [{}, PRIO_US], sabre: [{}, SABRE_APAC] } });
  });
  afterAll(() => emu.close());

  const prioToken = async (id: string, secret: string) => {
    const res = await fetch(emu.tokenUrl('prio'), {
      method: 'POST',
      headers: { authorization: basic(id, secret), accept: 'application/json', 'content-type': 'application/json' },
      body: '{"grant_type":"client_credentials"}',
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
  };
  const sabreToken = async (a: { clientId: string; clientSecret: string; username: string; password: string }) => {
    const res = await fetch(emu.tokenUrl('sabre'), {
      method: 'POST',
      headers: { authorization: basic(a.clientId, a.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: a.username, password: a.password }).toString(),
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
  };

  it('lists every account, the defaults first, and keeps `credentials` the first one', () => {
    expect(emu.accounts('prio')).toEqual([C.prio, PRIO_US]);
    expect(emu.accounts('sabre')).toEqual([C.sabre, SABRE_APAC]);
    expect(emu.credentials.prio).toEqual(C.prio);
    expect(emu.accounts('latam')).toEqual([C.latam]);
  });

  it('issues each account its own token, recording whom it was issued to', async () => {
    const eu = await prioToken(C.prio.clientId, C.prio.clientSecret);
    const us = await prioToken(PRIO_US.clientId, PRIO_US.clientSecret);
    expect([eu.status, us.status]).toEqual([200, 200]);
    expect(emu.tokenOwner('prio', eu.body.access_token!)).toEqual(C.prio);
    expect(emu.tokenOwner('prio', us.body.access_token!)).toEqual(PRIO_US);
    const apac = await sabreToken(SABRE_APAC);
    expect(apac.status).toBe(200);
    expect(emu.tokenOwner('sabre', apac.body.access_token!)).toEqual(SABRE_APAC);
    expect(emu.tokenOwner('sabre', eu.body.access_token!)).toBeUndefined();
  });

  it("refuses an account's client with the other account's secret or user, as the provider refuses a wrong secret", async () => {
    expect(await prioToken(PRIO_US.clientId, C.prio.clientSecret)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await prioToken(C.prio.clientId, PRIO_US.clientSecret)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await sabreToken({ ...SABRE_APAC, password: C.sabre.password })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(await sabreToken({ ...C.sabre, username: SABRE_APAC.username })).toMatchObject({ status: 401 });
  });

  it("accepts either account's token on the API", async () => {
    const us = await prioToken(PRIO_US.clientId, PRIO_US.clientSecret);
    const res = await fetch(`${emu.apiUrl('prio')}/products`, { headers: { authorization: `Bearer ${us.body.access_token}` } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it('refuses an empty list of accounts when starting, rather than an endpoint that accepts nobody', async () => {
    await expect(startProviderEmulators({ credentials: { sabre: [] } })).rejects.toThrow(
      'credentials.sabre: an empty list accepts nobody; give at least one account',
    );
  });
});
