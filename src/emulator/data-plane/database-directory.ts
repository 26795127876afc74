import { createHash } from 'node:crypto';

const MAX_SLUG_LENGTH = 48;

/**
 * A directory name for a database: readable (the tail of its ARM id) and unique (a hash of the whole id),
 * since ARM ids contain slashes and may be long.
 */
export function databaseDirectoryName(databaseId: string): string {
  const full = databaseId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // Cut at a word boundary so the name starts with a whole segment.
  const slug = full.length <= MAX_SLUG_LENGTH ? full : full.slice(-MAX_SLUG_LENGTH).replace(/^[^-]*-/, '');
  const hash = createHash('sha256').update(databaseId).digest('hex').slice(0, 12);
  return slug === '' ? hash : `${slug}-${hash}`;
}
