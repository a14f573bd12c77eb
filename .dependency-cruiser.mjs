// Import rules for apps/ and libs/ (test/repo/import-layers.e2e-spec.ts runs them): no import cycle, the
// library never reaches into the app, and each package's layers only import the layers below them,
// type-only imports included. The README's "Repository layout" explains the order.

/**
 * The gateway's layers under apps/gateway/src, bottom first: a module may import its own layer and
 * those below. The last one is the composition root (app.module.ts, gateway.factory.ts, main.ts...).
 */
const GATEWAY_LAYERS = [
  ['config/'],
  ['logging/', 'problem/', 'http/', 'shutdown/', 'tracing/'],
  ['auth/'],
  ['ratelimit/'],
  ['metrics/'],
  ['tokens/', 'health/'],
  ['proxy/'],
  ['cli/', '[^/]+\\.ts$'],
];

/** The library's layers under libs/oauth-providers/src, bottom first; the last one is the module at the package's root. */
const LIBRARY_LAYERS = [
  ['errors/', 'oauth\\.constants\\.ts$'],
  ['interfaces/'],
  ['stores/'],
  ['token/'],
  ['strategies/'],
  ['(?!oauth\\.constants\\.ts$)[^/]+\\.ts$'],
];

const anyOf = (prefix, parts) => `^${prefix}(${parts.join('|')})`;

/** One rule per layer: nothing in it imports a layer above it. */
function layerRules(name, prefix, layers) {
  return layers.slice(0, -1).map((layer, index) => {
    const above = layers.slice(index + 1).flat();
    return {
      name: `${name}-layer-${layer[0].replace(/[^a-z]+/g, '')}`,
      comment: `${layer.join(' ')} may not import ${above.join(' ')}: layers point one way`,
      severity: 'error',
      from: { path: anyOf(prefix, layer) },
      to: { path: anyOf(prefix, above) },
    };
  });
}

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle, type-only imports included, ties modules that should stand in order.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'library-not-app',
      comment: 'The libraries are published on their own: they never import the gateway.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    ...layerRules('gateway', 'apps/gateway/src/', GATEWAY_LAYERS),
    ...layerRules('library', 'libs/oauth-providers/src/', LIBRARY_LAYERS),
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(\\.spec\\.ts$|/dist/|/test-support/|node_modules)' },
    enhancedResolveOptions: {
      // The workspace packages resolve to their sources, as in the typecheck.
      conditionNames: ['@oauth-gateway/source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
