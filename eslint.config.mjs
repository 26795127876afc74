// @ts-check
import { builtinModules } from 'node:module';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/*
 * The layers of src/ (docs/ARCHITECTURE.md, "Layers"). A module imports only from its own layer or a lower one:
 *
 *   contract                      names, payloads, activity interfaces, pure formatters; imports nothing else
 *   libraries                     Azure, configuration, policy, signing, Redis, Temporal connection, tracing, tools
 *   workflows | activities        the runbooks and their side effects; neither imports the other
 *   starter, worker, bundle       start and host the workflows
 *   cli | drill | audit           the applications; the CLI runs the drill and the audit, the drill writes its evidence
 *                                 with the audit, nothing else imports an application
 *   emulator                      apart: the contract only; run by the drill and by `geofailover emulator`
 *
 * No import cycles anywhere in src/ (type-only imports excepted: they vanish at run time).
 */
const LIBRARIES = ['azure', 'config', 'observability', 'policy', 'redis', 'signing', 'temporal', 'toolchain'];
const HOSTS = ['starter.ts', 'worker.ts', 'workflow-bundle.ts'];
const APPS = ['cli', 'drill', 'audit', 'readiness-report'];
/** @param {string[]} names */
const src = (names) => names.map((name) => `src/${name}`);

/**
 * The layer rules as ESLint config blocks; `basePath` is the directory holding src/ (the test plants breaks).
 * @param {string} basePath
 */
export function layerRules(basePath) {
  /** @type {(target: string | string[], from: string | string[], message: string, except?: string[]) => object} */
  const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });
  /** @type {import('eslint').Linter.Config[]} */
  const blocks = [
    {
      files: ['src/**/*.ts', 'src/**/*.mjs'],
      plugins: { 'import-x': importX },
      settings: {
        // Without these the cycle rule cannot read a TypeScript module's own imports, and finds nothing.
        'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
        'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${basePath}/tsconfig.json` })],
      },
      rules: {
        'import-x/no-cycle': ['error', { ignoreExternal: true }],
        'import-x/no-restricted-paths': [
          'error',
          {
            basePath,
            zones: [
              zone('src/contract', 'src', 'src/contract is the bottom layer: it imports nothing else of src/.', [
                './contract',
              ]),
              zone(
                src(LIBRARIES),
                src(['workflows', 'activities', ...HOSTS, ...APPS, 'emulator']),
                'A library imports only the contract and other libraries.',
              ),
              zone(
                'src/workflows',
                src(['activities', ...HOSTS, ...APPS, 'emulator']),
                'Workflow code imports the contract (activity interfaces: src/contract/activities.ts) and pure libraries.',
              ),
              zone(
                'src/activities',
                src(['workflows', ...HOSTS, ...APPS, 'emulator']),
                'Activities import the contract and libraries, never the workflows or what hosts them.',
              ),
              zone(src(HOSTS), src([...APPS, 'emulator']), 'The starter and the worker never import an application.'),
              zone(
                'src/audit',
                src(['workflows', 'activities', 'worker.ts', 'cli', 'drill', 'readiness-report', 'emulator']),
                'The audit reads histories through the contract and replays them with the workflow bundle only.',
              ),
              zone('src/drill', src(['cli', 'readiness-report']), 'The drill does not import the CLI.'),
              zone(
                'src/readiness-report',
                src(['workflows', 'activities', 'cli', 'drill', 'emulator']),
                'The readiness report renders the contract’s report; the CLI prints it.',
              ),
              zone(
                ['src/cli/*.ts', 'src/cli/!(commands)/**', 'src/cli/commands/!(emulator).ts'],
                'src/emulator',
                'Only `geofailover emulator` (src/cli/commands/emulator.ts) and the drill run the emulator.',
              ),
              zone(
                'src/emulator',
                'src',
                'The emulator stands apart: it imports the contract, and for --write-config the configuration ' +
                  'schema’s types and the key-file writer.',
                ['./contract', './emulator', './config/schema.ts', './signing/key-files.ts'],
              ),
              zone('src', ['scripts', 'test'], 'src/ never imports scripts/ or test/ (the package ships dist/ only).'),
            ],
          },
        ],
      },
    },
  ];
  return blocks;
}

export default tseslint.config(
  // test/fixtures/lint holds deliberate layer breaks and cycles for test/unit/lint-rules.test.ts.
  { ignores: ['node_modules/**', 'dist/**', 'evidence/**', 'bin/**', '.tools/**', 'test/fixtures/lint/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A missing await on an activity, workflow or client call is a bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests build deliberately broken JSON inputs; typing every mutation adds nothing.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...layerRules(import.meta.dirname),
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
            name,
            message: 'Workflow code must be deterministic: do I/O in an activity.',
          })),
          patterns: [
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@azure/*', 'redis'],
              message: 'Not allowed in workflow code.',
            },
            {
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'Import activities as types only.',
            },
          ],
        },
      ],
    },
  },
);
