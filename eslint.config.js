// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Bare built-in names ("fs", "crypto"): the project imports them as "node:fs", "node:crypto". */
const bareBuiltins = builtinModules
  .filter((name) => !name.startsWith('_') && !name.includes('/'))
  .map((name) => ({ name, message: `Import built-ins with the node: protocol ("node:${name}").` }));

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/.data/**', '**/coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: bareBuiltins,
          patterns: [
            {
              group: [
                '@wxlogin/*/src/*',
                '@wxlogin/*/dist/*',
                '**/wechat-core/src/*',
                '**/wechat-emulator/src/*',
              ],
              message: 'Import a package through its public entry point, never its internals.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
