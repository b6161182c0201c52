import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'generated/', 'data/', '.temporal/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test() and describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox:
    // Node built-ins (clocks, randomness, I/O) must not be reached from it.
    files: [
      'src/workflows/**/*.ts',
      'src/domain/**/*.ts',
      'src/temporal/names.ts',
      'src/temporal/search-attributes.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflow code runs in a deterministic sandbox without Node built-ins.' },
          ],
        },
      ],
    },
  },
  {
    // Test doubles implement async service interfaces without awaiting anything.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Plain JavaScript run by node itself: the config, and the bin shim of `npx order`.
    files: ['eslint.config.js', 'tooling/cli/bin.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
