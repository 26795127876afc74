// The drill on a server it did not start (TEMPORAL_ADDRESS): the runbook upserts the contract's search attributes,
// which a namespace must have registered first. A dev server accepts the registration; a production namespace is
// registered by its operators (README: Search attributes), and then nothing here is needed.
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contract/names';

/** Keyword in temporal.api.enums.v1.IndexedValueType */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

/** The Temporal CLI commands that register `attributes` (default: all of the contract's) in `namespace`. */
export function searchAttributeCommands(
  namespace: string,
  attributes: readonly { name: string; type: string }[] = Object.values(SEARCH_ATTRIBUTES),
): string[] {
  return attributes.map(
    (sa) => `temporal operator search-attribute create --namespace ${namespace} --name ${sa.name} --type ${sa.type}`,
  );
}

/**
 * Registers the contract's search attributes the namespace lacks; returns the names it registered.
 * @throws Error saying which are missing and how to add them, when the server refuses (no permission).
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const listed = await client.connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(listed.customAttributes ?? {}), ...Object.keys(listed.systemAttributes ?? {})]);
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((sa) => !known.has(sa.name));
  if (missing.length === 0) return [];
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((sa) => [sa.name, INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (e) {
    const commands = searchAttributeCommands(namespace, missing).join('\n  ');
    throw new Error(
      `namespace ${namespace} lacks the search attributes the runbook sets (${missing.map((sa) => sa.name).join(', ')}) ` +
        `and refused to register them (${(e as Error)?.message ?? String(e)}); register them with:\n  ${commands}`,
    );
  }
  return missing.map((sa) => sa.name);
}
