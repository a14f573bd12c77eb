import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';

export const {
  ConfigurableModuleClass: OAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN: OAUTH_MODULE_OPTIONS,
  OPTIONS_TYPE: OAUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OAUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OAuthModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
