import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OAuthModuleOptions } from './oauth.options.js';

export const { ConfigurableModuleClass: OAuthConfigurableModule, MODULE_OPTIONS_TOKEN: OAUTH_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<OAuthModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
