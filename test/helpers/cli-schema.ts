// A `--json` output of the CLI checked against its published JSON Schema (schemas/cli-NAME.schema.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const SCHEMAS = path.resolve(__dirname, '../../schemas');

export function assertCliSchema(
  name: 'start' | 'decide' | 'status' | 'signal' | 'error' | 'rehearse' | 'evacuate' | 'evacuation-status',
  doc: unknown,
): void {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS, `cli-${name}.schema.json`), 'utf8')));
  assert.ok(validate(doc), `matches schemas/cli-${name}.schema.json: ${ajv.errorsText(validate.errors)}`);
}
