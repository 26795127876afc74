/** The HTML building blocks the report page and its drawn timeline share. Everything from the history is escaped. */

/** Escapes text for HTML element content and attribute values. */
export function esc(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

export const STATUS_COLOURS: Record<string, string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  running: '#1565c0',
  waiting: '#ef6c00',
  skipped: '#9e9e9e',
  pending: '#bdbdbd',
  unknown: '#6a1b9a',
};

/** The word a status badge starts with, so a badge reads the same printed in black and white. */
export const STATUS_ICONS: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '▶',
  waiting: '⏸',
  skipped: '–',
  pending: '○',
  unknown: '?',
};

/** One element; attribute values are escaped, `body` is markup already. */
export function tag(name: string, attrs: Record<string, string | number | undefined>, body = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  return `<${name}${a}>${body}</${name}>`;
}
