import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { OAuthProviderError, TokenService } from '@oauth-gateway/oauth-providers';
import { OAuthTestingController, OAuthTestingModule } from '@oauth-gateway/oauth-providers/testing';
import { PartnerClient } from './partner.client.js';

// The app's own unit test, with the library's testing entry in place of OAuthModule.
describe('PartnerClient with OAuthTestingModule', () => {
  it('gets stand-in tokens right after compile(), and fails when told to', async () => {
    let n = 0;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true }),
        OAuthTestingModule.forRoot({ tokens: { prio: 'tok-1', idp: async () => `idp-${++n}` } }),
      ],
      providers: [PartnerClient],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const control = moduleRef.get(OAuthTestingController);
    expect((await tokens.getToken('prio')).accessToken).toBe('tok-1');
    expect(await tokens.getRequestHeaders('idp')).toEqual({ authorization: 'Bearer idp-1' });
    control.failNext('idp', new OAuthProviderError({ provider: 'idp', kind: 'rejected', status: 401 }));
    await expect(tokens.getToken('idp')).rejects.toBeInstanceOf(OAuthProviderError);
    expect((await tokens.getToken('idp')).accessToken).toBe('idp-2');
    expect(control.issued('idp')).toBe(2);
    await moduleRef.close();
  });
});
