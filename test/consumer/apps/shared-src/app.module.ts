import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { OAuthModule, oauth2, prio } from '@oauth-gateway/oauth-providers';
import { PartnerClient } from './partner.client.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
    ScheduleModule.forRoot(),
    OAuthModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        providers: [
          prio({
            tokenUrl: config.getOrThrow('PRIO_TOKEN_URL'),
            clientId: config.getOrThrow('PRIO_CLIENT_ID'),
            clientSecret: config.getOrThrow('PRIO_CLIENT_SECRET'),
          }),
          oauth2({
            name: 'idp',
            tokenUrl: config.getOrThrow('IDP_TOKEN_URL'),
            clientId: config.getOrThrow('IDP_CLIENT_ID'),
            clientSecret: config.getOrThrow('IDP_CLIENT_SECRET'),
          }),
        ],
      }),
    }),
  ],
  providers: [PartnerClient],
})
export class AppModule {}
