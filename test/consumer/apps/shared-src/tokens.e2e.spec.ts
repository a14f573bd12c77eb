import { Test } from '@nestjs/testing';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { AppModule } from './app.module.js';
import { PartnerClient } from './partner.client.js';

// The real module against the emulators the consumer test started (their URLs and credentials in the environment).
describe('AppModule with OAuthModule', () => {
  it('gets real tokens and calls the APIs with them', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = await moduleRef.init();
    const tokens = app.get(TokenService);
    for (const provider of ['prio', 'idp']) {
      const token = await tokens.getToken(provider);
      expect(token.accessToken.length).toBeGreaterThan(0);
      expect(await app.get(PartnerClient).echo(provider)).toEqual({
        status: 200,
        authorization: `${token.tokenType} ${token.accessToken}`,
      });
    }
    expect(tokens.status().map((s) => s.state)).toEqual(['valid', 'valid']);
    await app.close();
  });
});
