import type { AdminClient } from './admin-client';
import type { MemoryUsage } from './types';

/** Parses the `field:value` lines of an INFO reply. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** used_memory and maxmemory from INFO memory; throws if the reply lacks them. */
export async function readMemoryUsage(client: AdminClient): Promise<MemoryUsage> {
  const fields = parseInfo(await client.info('memory'));
  const usedBytes = Number(fields.get('used_memory'));
  const maxBytes = Number(fields.get('maxmemory'));
  if (!Number.isFinite(usedBytes) || !Number.isFinite(maxBytes)) {
    throw new Error('INFO memory did not report used_memory and maxmemory');
  }
  return { usedBytes, maxBytes };
}
