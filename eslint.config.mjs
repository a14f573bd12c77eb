// ESLint's flat config: typescript-eslint's type-checked rules on the TypeScript sources (floating
// promises, promises where a callback is expected, unsafe `any`), ESLint's own on the plain JS.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/', 'coverage/', 'test/consumer/fixture/', 'test/consumer/apps/', '**/*.d.mts'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promise-returning implementations (token stores, test doubles) stay async so that a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter an interface imposes, or a property left out of a rest copy, as unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
