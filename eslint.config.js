// The linter: typed TypeScript rules, and the layers of ARCHITECTURE.md as import boundaries.
// Lower layers never import upper ones; manifest/ and expression/ import nothing of the rest;
// commands never import commander; only ui/ (and the process entry) writes to the process streams.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The folders of src/, lowest layer first; a folder may import only folders listed before it. */
const LAYERS = [
  'manifest',
  'expression',
  'source',
  'data',
  'app',
  'project',
  'typegen',
  'runtime',
  'store',
  'server',
  'remote',
  'ui',
  'commands',
];

/** no-restricted-imports patterns that keep `folder` from importing the layers above it. */
function upwardImports(folder) {
  const above = LAYERS.slice(LAYERS.indexOf(folder) + 1);
  return [
    ...above.map((layer) => ({
      group: [`../${layer}/*`, `../${layer}/**`],
      message: `${folder}/ is below ${layer}/ and must not import it (see ARCHITECTURE.md)`,
    })),
    { group: ['../cli.js', '../bin.js'], message: 'only the process entry imports the CLI grammar' },
  ];
}

const streamWrites = [
  { object: 'process', property: 'stdout', message: 'only src/ui writes to the process streams' },
  { object: 'process', property: 'stderr', message: 'only src/ui writes to the process streams' },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'templates/', 'examples/', 'test/fixtures/', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // typeof import('x') types what is loaded lazily (mongodb, ts-morph): allowed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Untyped JSON and worker messages are checked where they enter; these rules would flag every read of them.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      'no-control-regex': 'off',
      'no-console': 'error',
    },
  },
  // Each layer of src/ imports only the layers below it.
  ...LAYERS.map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: upwardImports(folder) }] },
  })),
  // manifest/ and expression/ are the leaves: nothing of the rest, not even errors.ts or the context.
  {
    files: ['src/manifest/**/*.ts', 'src/expression/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!../manifest', '!../expression'], message: 'manifest/ and expression/ import nothing of the rest of fn' },
          ],
        },
      ],
    },
  },
  // data/ and store/ know nothing of HTTP.
  ...['data', 'store'].map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'node:https', 'node:http2'].map((name) => ({ name, message: 'data/ and store/ know nothing of HTTP' })),
          patterns: upwardImports(folder),
        },
      ],
    },
  })),
  // Commands return data and never touch commander or the process.
  {
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'commander', message: 'only src/cli.ts knows commander' }], patterns: upwardImports('commands') },
      ],
      'no-restricted-properties': [
        'error',
        ...streamWrites,
        { object: 'process', property: 'exit', message: 'a command returns; src/cli.ts picks the exit code' },
        { object: 'process', property: 'exitCode', message: 'a command returns; src/cli.ts picks the exit code' },
      ],
    },
  },
  // Only ui/ and the process entry write to the process streams.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/ui/**', 'src/bin.ts', 'src/commands/**'],
    rules: { 'no-restricted-properties': ['error', ...streamWrites] },
  },
  // Tests, benchmarks and scripts print and poke freely.
  {
    files: ['test/**/*.ts', 'bench/**/*.mjs', 'scripts/**/*.mjs', '*.js', '*.mjs'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      // Replies of servers under test are read as any, then checked by the assertions.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  // Plain Node scripts (benchmarks, build scripts, the bin shim): no type information, and
  // Node's globals are theirs.
  {
    files: ['bench/**/*.mjs', 'scripts/**/*.mjs', 'bin/*.js', '*.js', '*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-undef': 'off', 'no-console': 'off' },
  },
);
