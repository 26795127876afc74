import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The wire-contract folder: `test/fixtures/azure` (committed, so a clean clone has it), else
 * `$GEOFAILOVER_AZURE_CONTRACTS` (a folder with the same layout, to test against newer specs).
 *
 * @throws Error naming every place looked at when none has `specs/`.
 */
export function azureContractDir(): string {
  const candidates = [
    path.join(REPO_ROOT, 'test', 'fixtures', 'azure'),
    ...(process.env.GEOFAILOVER_AZURE_CONTRACTS ? [path.resolve(process.env.GEOFAILOVER_AZURE_CONTRACTS)] : []),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'specs')));
  if (!found) {
    throw new Error(`Azure wire-contract fixtures not found; looked in ${candidates.join(', ')}`);
  }
  return found;
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** A swagger 2.0 document (only what the tests read). */
export interface SwaggerDocument {
  swagger: string;
  paths: Record<string, Record<string, SwaggerOperation | unknown>>;
  definitions: Record<string, unknown>;
}

export interface SwaggerOperation {
  operationId: string;
  responses: Record<string, { schema?: unknown; headers?: Record<string, { type?: string; format?: string }> }>;
}

export function loadSpec(file: 'redisenterprise.2026-08-01.json' | 'trafficmanager.2022-04-01.json'): SwaggerDocument {
  return readJson<SwaggerDocument>(path.join(azureContractDir(), 'specs', file));
}

/** An x-ms-examples file. */
export interface SpecExample {
  title?: string;
  operationId?: string;
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

/** Example files under `examples/<subdir>`, by file name (not recursive). */
export function listExamples(subdir: string): { file: string; example: SpecExample }[] {
  const dir = path.join(azureContractDir(), 'examples', subdir);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: path.posix.join(subdir, f), example: readJson<SpecExample>(path.join(dir, f)) }));
}
