import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.trtcd/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The client SDK is bundled for browsers: no Node built-ins or Node-only packages.
    files: ['web/sdk/**/*.ts'],
    ignores: ['web/sdk/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(node:|ws$)', message: 'web/sdk runs in browsers: no Node-only imports' }] }] },
  },
  {
    // The demo page's plain browser modules, and the TUICallKit app the browser tests bundle.
    files: ['web/demo/**/*.js', 'web/console/**/*.js', 'test/fixtures/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'localStorage', 'navigator', 'crypto', 'fetch', 'HTMLElement', 'HTMLInputElement', 'HTMLSelectElement', 'HTMLFormElement', 'Event', 'CustomEvent', 'TextEncoder', 'TextDecoder', 'RTCPeerConnection', 'MediaStream']
          .map((g) => [g, 'readonly']),
      ),
    },
  },
);
