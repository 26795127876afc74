import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SCHEMA_DIR, renderSchemas } from '../../scripts/generate-schemas';

describe('published JSON Schemas', () => {
  for (const [file, expected] of Object.entries(renderSchemas())) {
    it(`schemas/${file} matches what the loader validates (run npm run schemas after a change)`, () => {
      assert.equal(readFileSync(path.join(SCHEMA_DIR, file), 'utf8'), expected);
    });
  }
});
