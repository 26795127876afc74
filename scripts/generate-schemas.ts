/**
 * Writes the JSON Schemas in schemas/ from the zod schemas the code validates with, so editors and
 * users see exactly what the loader accepts. `npm run schemas` rewrites them; a unit test fails when
 * a committed schema is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { renderDrEvidenceSchemas } from '../src/audit/dr-evidence/schema';
import { renderAuditSchemas } from '../src/audit/report/schema';
import { CLI_OUTPUT_SCHEMAS } from '../src/cli/output-schemas';
import { configSchema } from '../src/config/schema';
import { renderScenarioJsonSchema } from '../src/emulator/scenario';

export const SCHEMA_DIR = path.resolve(__dirname, '../schemas');

export function renderSchemas(): Record<string, string> {
  const render = (schema: z.ZodType, title: string): string =>
    JSON.stringify({ title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }, null, 2) + '\n';
  return {
    'config.schema.json': render(configSchema, 'geofailover configuration (geofailover.config.json)'),
    'scenario.schema.json': renderScenarioJsonSchema(),
    // What the runbook commands print under --json.
    ...Object.fromEntries(
      Object.entries(CLI_OUTPUT_SCHEMAS).map(([file, schema]) => [file, `${JSON.stringify(schema, null, 2)}\n`]),
    ),
    // The evidence report (report.json) and `audit --json`.
    ...renderAuditSchemas(),
    // The DR evidence package (summary.json) and `evidence --json`.
    ...renderDrEvidenceSchemas(),
  };
}

if (require.main === module) {
  for (const [file, text] of Object.entries(renderSchemas())) {
    writeFileSync(path.join(SCHEMA_DIR, file), text);
    console.error(`wrote schemas/${file}`);
  }
}
