// Reading and writing a database's plain string keys for the emulated geo-replication (src/emulator/replication.ts):
// every string key but the replication-metadata filler, read in batches; a copy keeps the key's remaining TTL.
import type { AdminClient } from './admin-client';
import { METADATA_KEY_PREFIX } from './metadata-filler';

const SCAN_COUNT = 500;
const BATCH = 200;
/** Keys a tick reads at most: the emulator replicates small working sets (tests, drills), not a whole cache. */
const MAX_KEYS = 10_000;

/** key → value of every string key (the metadata filler excepted), at most {@link MAX_KEYS}. */
export async function readStrings(client: AdminClient): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await client.sendCommand(['SCAN', cursor, 'COUNT', String(SCAN_COUNT)])) as [
      string,
      string[],
    ];
    cursor = String(next);
    for (const key of batch) if (!key.startsWith(METADATA_KEY_PREFIX)) keys.push(key);
  } while (cursor !== '0' && keys.length < MAX_KEYS);
  const values = new Map<string, string>();
  for (let i = 0; i < keys.length; i += BATCH) {
    const chunk = keys.slice(i, i + BATCH);
    // MGET answers nil for a key that is not a string (or expired meanwhile).
    const read = (await client.sendCommand(['MGET', ...chunk])) as (string | null)[];
    chunk.forEach((key, j) => {
      const value = read[j];
      if (typeof value === 'string') values.set(key, value);
    });
  }
  return values;
}

/** The keys' values and remaining TTLs (ms; -1: none) on the source, for {@link writeStrings}. */
export async function readForCopy(
  client: AdminClient,
  keys: readonly string[],
): Promise<{ key: string; value: string; ttlMs: number }[]> {
  const entries = await Promise.all(
    keys.map(async (key) => {
      const [value, ttl] = await Promise.all([
        client.sendCommand(['GET', key]) as Promise<string | null>,
        client.sendCommand(['PTTL', key]) as Promise<number>,
      ]);
      return { key, value, ttlMs: Number(ttl) };
    }),
  );
  return entries.filter((e): e is { key: string; value: string; ttlMs: number } => typeof e.value === 'string');
}

/** SET each entry (with PX when it has a TTL). */
export async function writeStrings(
  client: AdminClient,
  entries: readonly { key: string; value: string; ttlMs: number }[],
): Promise<void> {
  await Promise.all(
    entries.map((e) =>
      client.sendCommand(e.ttlMs > 0 ? ['SET', e.key, e.value, 'PX', String(e.ttlMs)] : ['SET', e.key, e.value]),
    ),
  );
}
