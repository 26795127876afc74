// The layer rules and the cycle rule of eslint.config.mjs, on planted breaks (test/fixtures/lint: a copy of src/'s
// layout with one break of each kind), and wired into the configuration `npm run lint` uses.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'lint');

interface LintConfigModule {
  layerRules(basePath: string): Linter.Config[];
}

async function lintFixture(): Promise<Map<string, { rule: string; line: number; message: string }[]>> {
  const config = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.mjs')).href)) as LintConfigModule;
  const eslint = new ESLint({
    cwd: FIXTURE,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser } },
      ...config.layerRules(FIXTURE),
    ],
  });
  const results = await eslint.lintFiles(['src']);
  return new Map(
    results.map((r) => [
      path.relative(FIXTURE, r.filePath).split(path.sep).join('/'),
      r.messages.map((m) => ({ rule: m.ruleId ?? `fatal: ${m.message}`, line: m.line, message: m.message })),
    ]),
  );
}

describe('lint: import cycles and layer boundaries', function () {
  this.timeout(120_000);
  let found: Map<string, { rule: string; line: number; message: string }[]>;

  before(async () => {
    found = await lintFixture();
  });

  const rulesIn = (file: string): string[] => (found.get(file) ?? []).map((m) => m.rule);

  it('fails on an import cycle, in both files of it', () => {
    assert.deepEqual(rulesIn('src/drill/drill.ts'), ['import-x/no-cycle']);
    assert.deepEqual(rulesIn('src/drill/incident.ts'), ['import-x/no-cycle']);
  });

  it('fails when the contract imports a higher layer', () => {
    assert.deepEqual(rulesIn('src/contract/planted-layer-break.ts'), ['import-x/no-restricted-paths']);
    assert.match(found.get('src/contract/planted-layer-break.ts')?.[0]?.message ?? '', /src\/contract is the bottom/);
  });

  it('fails when the drill imports the CLI, the audit imports workflow code, or the emulator imports the product', () => {
    assert.deepEqual(rulesIn('src/drill/uses-cli.ts'), ['import-x/no-restricted-paths']);
    assert.deepEqual(rulesIn('src/audit/report.ts'), ['import-x/no-restricted-paths']);
    // its import of the contract is allowed: one report, for ../config/load
    assert.deepEqual(
      (found.get('src/emulator/server.ts') ?? []).map((m) => [m.rule, m.line]),
      [['import-x/no-restricted-paths', 2]],
    );
  });

  it('lets only the emulator command of the CLI import the emulator', () => {
    assert.deepEqual(rulesIn('src/cli/status.ts'), ['import-x/no-restricted-paths']);
    assert.deepEqual(rulesIn('src/cli/commands/emulator.ts'), []);
  });

  it('fails when src/ imports scripts/', () => {
    assert.deepEqual(rulesIn('src/toolchain/tools.ts'), ['import-x/no-restricted-paths']);
  });

  it('accepts imports that follow the layers', () => {
    for (const file of ['src/cli/render.ts', 'src/contract/names.ts', 'src/workflows/runbook.ts']) {
      assert.deepEqual(rulesIn(file), [], file);
    }
  });

  it('is what `npm run lint` applies to src/', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const file of ['src/contract/names.ts', 'src/drill/drill.ts', 'src/emulator/main.ts']) {
      const config = (await eslint.calculateConfigForFile(path.join(ROOT, file))) as Linter.Config;
      // calculateConfigForFile normalises every rule entry to [severity, ...options]; 2 is error
      const severity = (rule: string): unknown => (config.rules?.[rule] as unknown[] | undefined)?.[0];
      assert.equal(severity('import-x/no-cycle'), 2, `${file}: no-cycle`);
      assert.equal(severity('import-x/no-restricted-paths'), 2, `${file}: layers`);
      // without TypeScript among its extensions the cycle rule reads no module's imports and passes everything
      assert.ok((config.settings?.['import-x/extensions'] as string[] | undefined)?.includes('.ts'), file);
    }
    assert.equal(await eslint.isPathIgnored(path.join(FIXTURE, 'src', 'drill', 'drill.ts')), true);
  });
});
