// How TypeScript is compiled outside `tsc`: by @swc/jest in Jest (jest.config.js) and by the
// module hooks that let spawned test processes run the sources (test-support/ts-hooks.mjs).
// ES modules, legacy decorators with metadata, class fields as `tsc` emits them.
export const SWC_OPTIONS = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};
