import { randomBytes } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { AdminClient } from './admin-client';
import { readMemoryUsage } from './memory-info';

/** Prefix of the keys that stand for geo-replication metadata; clients never write it. */
export const METADATA_KEY_PREFIX = '__geo:metadata:';

// Just under 64 KiB so that the value, its header and terminator fit one 64 KiB allocator class:
// each key then costs close to its size and growth stays predictable.
const VALUE_BYTES = 64 * 1024 - 64;
const FILLER = Buffer.alloc(VALUE_BYTES, 'm');
const MAX_KEYS_PER_BATCH = 128;
// Bounds the loop should used_memory stop moving (e.g. something else frees memory meanwhile).
const MAX_BATCHES = 1000;

/**
 * Writes filler keys so that INFO used_memory grows by about `bytes`, never past `capBytes`. Each batch is
 * sized from the cost per key measured on the previous one, and keys written past the cap are removed again.
 * Returns used_memory afterwards. Throws when redis refuses a write for a reason other than being full.
 */
export async function growMetadata(client: AdminClient, bytes: number, capBytes: number): Promise<number> {
  let used = (await readMemoryUsage(client)).usedBytes;
  const target = Math.min(used + Math.max(0, bytes), capBytes);
  const written: string[] = [];
  const run = randomBytes(4).toString('hex');
  // A conservative first guess: key, dict entry and robj on top of the value.
  let costPerKey = VALUE_BYTES + 1024;
  for (let batch = 0; batch < MAX_BATCHES && target - used >= costPerKey; batch++) {
    const count = Math.min(MAX_KEYS_PER_BATCH, Math.floor((target - used) / costPerKey));
    const keys = Array.from({ length: count }, (_, i) => `${METADATA_KEY_PREFIX}${run}:${written.length + i}`);
    let full = false;
    // Commands issued in one tick share a write: this is a pipeline.
    const results = await Promise.allSettled(keys.map((key) => client.set(key, FILLER)));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        written.push(keys[i] as string);
      } else if (result.reason instanceof ErrorReply && result.reason.message.startsWith('OOM')) {
        full = true;
      } else {
        throw result.reason;
      }
    });
    const after = (await readMemoryUsage(client)).usedBytes;
    if (after > used && count > 0) costPerKey = Math.max(costPerKey, Math.ceil((after - used) / count));
    used = after;
    if (full) break;
  }
  while (used > capBytes && written.length > 0) {
    await client.del(written.splice(-Math.max(1, Math.ceil((used - capBytes) / VALUE_BYTES))));
    used = (await readMemoryUsage(client)).usedBytes;
  }
  return used;
}

/** Deletes every filler key; used_memory falls by about what they cost. */
export async function clearMetadata(client: AdminClient): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${METADATA_KEY_PREFIX}*`, COUNT: 1000 })) {
    // DEL, not UNLINK: the memory must be released before the caller reads INFO again.
    if (keys.length > 0) await client.del(keys);
  }
}
