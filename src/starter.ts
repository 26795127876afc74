import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { TASK_QUEUE, WORKFLOW_TYPES, workflowIds } from './contract/names';
import type { ReadinessCheckInput } from './contract/readiness';
import type { readinessCheck } from './workflows';

export interface ConnectClientOptions {
  /** envconfig profile; default: TEMPORAL_PROFILE or 'default' */
  profile?: string;
}

/**
 * Connects a Temporal client the conventional way: the envconfig profile file, then TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_* variables (default localhost:7233, namespace
 * 'default'). Close it with `client.connection.close()`.
 * @throws when the configuration is invalid or the server cannot be reached.
 */
export async function connectClient(options: ConnectClientOptions = {}): Promise<Client> {
  const config = loadClientConnectConfig({ profile: options.profile });
  const connection = await Connection.connect(config.connectionOptions);
  return new Client({ connection, namespace: config.namespace });
}

export interface StartOptions {
  /** default: TASK_QUEUE ('geofailover') */
  taskQueue?: string;
}

/**
 * Starts `readinessCheck` for one group, with workflow id `readiness/<group>`.
 * @throws WorkflowExecutionAlreadyStartedError when a check of the same group is still running.
 */
export async function startReadinessCheck(
  client: Client,
  input: ReadinessCheckInput,
  options: StartOptions = {},
): Promise<WorkflowHandle<typeof readinessCheck>> {
  return client.workflow.start<typeof readinessCheck>(WORKFLOW_TYPES.readinessCheck, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: workflowIds.readiness(input.group),
    args: [input],
  });
}
