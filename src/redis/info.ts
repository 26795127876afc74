/** Parses the text of Redis INFO into section → field → value. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

export interface MemoryUsage {
  usedBytes: number;
  /** 0 when the server has no maxmemory limit */
  maxBytes: number;
  /** used / max in percent, or null when there is no limit */
  percent: number | null;
}

/** used_memory and maxmemory from INFO memory. */
export function memoryUsage(infoText: string): MemoryUsage {
  const info = parseInfo(infoText);
  const usedBytes = Number(info.used_memory);
  const maxBytes = Number(info.maxmemory ?? 0);
  if (!Number.isFinite(usedBytes)) throw new Error('INFO memory has no used_memory field');
  return { usedBytes, maxBytes, percent: maxBytes > 0 ? Math.round((usedBytes / maxBytes) * 1000) / 10 : null };
}
