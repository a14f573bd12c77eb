// Loads the package both ways in one process: import() and require() must give one TokenService.
const { createRequire } = require('node:module');
const required = createRequire(__filename)('@oauth-gateway/oauth-providers');
void import('@oauth-gateway/oauth-providers').then((imported) => {
  console.log(
    JSON.stringify({ same: imported.TokenService === required.TokenService, module: imported.OAuthModule === required.OAuthModule }),
  );
});
