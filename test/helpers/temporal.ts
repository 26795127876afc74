// What workflow tests need from the shared dev server that test/helpers/global-fixtures.ts starts.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { sourcesWorkflowBundle } from '../../src/workflow-bundle';

let runtimeInstalled = false;

/** The SDK runtime logs at WARN in tests; must run before the first connection or worker of the process. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/**
 * A test environment (client + native connection) on the shared dev server; create one per test file
 * in `before` and `teardown()` it in `after` (that closes the connections, not the server).
 * @throws when TEMPORAL_TEST_ADDRESS is unset, i.e. mocha ran without the global fixture.
 */
export async function getTestEnv(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) {
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is not set: run the tests with mocha and the project .mocharc.json ' +
        '(its global fixture starts a dev server), or point TEMPORAL_TEST_ADDRESS at a running server.',
    );
  }
  installTestRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
}

let bundle: Promise<WorkflowBundle> | undefined;

/**
 * src/workflows bundled once per test process (about a second each time otherwise): the sources' cached bundle
 * (src/workflow-bundle.ts, keyed by a hash of src/, made once by the main mocha process), read from its file.
 */
export function getWorkflowBundle(): Promise<WorkflowBundle> {
  installTestRuntime();
  bundle ??= sourcesWorkflowBundle().then(({ codePath }) => ({ code: readFileSync(codePath, 'utf8') }));
  return bundle;
}

let bundleFile: Promise<string> | undefined;

/**
 * The same bundle's file, for workers this test process spawns (GEOFAILOVER_WORKFLOW_BUNDLE): they start in
 * about a second instead of bundling the workflows each time.
 */
export function getWorkflowBundleFile(): Promise<string> {
  bundleFile ??= sourcesWorkflowBundle().then(({ codePath }) => codePath);
  return bundleFile;
}

/** A task queue no other test uses, so test files can share one server. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A name (group, region, id part) no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
