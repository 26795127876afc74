import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, type GeofailoverConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'geofailover.config.json';

/** Thrown when the configuration file is missing, not JSON, or fails its schema. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Where the configuration lives: --config, then GEOFAILOVER_CONFIG, then ./geofailover.config.json. */
export function resolveConfigPath(explicit?: string): string {
  return path.resolve(explicit ?? process.env.GEOFAILOVER_CONFIG ?? DEFAULT_CONFIG_FILE);
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

/**
 * Where JSON.parse stopped. V8 names the position for most errors; for an unexpected token it quotes a snippet
 * instead, so the offset is found by scanning (only ever on text JSON.parse refused).
 */
function jsonErrorOffset(text: string, message: string): number {
  const at = /at position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  return scanJson(text);
}

/** Offset of the first character that cannot continue valid JSON (a small recursive-descent scan). */
function scanJson(text: string): number {
  let i = 0;
  class Stop {}
  const expect = (ok: boolean): void => {
    if (!ok) throw new Stop();
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      expect(text[i] === ch);
      i++;
    }
  };
  const string = (): void => {
    i++; // the opening quote
    while (text[i] !== '"') {
      expect(i < text.length && text.charCodeAt(i) >= 0x20);
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            expect(/[0-9a-fA-F]/.test(text[i] ?? ''));
          }
        } else expect('"\\/bfnrt'.includes(text[i] ?? 'x'));
      }
      i++;
    }
    i++;
  };
  const members = (close: string, member: () => void): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      expect(text[i] === ',');
      i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      members('}', () => {
        ws();
        expect(text[i] === '"');
        string();
        ws();
        expect(text[i] === ':');
        i++;
        value();
      });
    } else if (ch === '[') members(']', value);
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else {
      const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      expect(number !== null);
      i += number![0].length;
    }
  };
  try {
    value();
    ws();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return i;
}

/** V8's reason without its position and without the quoted snippet of the file (which may hold anything). */
function jsonReason(message: string): string {
  return message
    .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '');
}

/** Parses and validates configuration text; errors name the file, the field and what was expected. */
export function parseConfig(text: string, file: string): GeofailoverConfig {
  let raw: unknown;
  // Editors on Windows may save a byte order mark; it is not part of the JSON.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    const message = (e as Error).message;
    const { line, column } = lineColumn(json, jsonErrorOffset(json, message));
    throw new ConfigError(
      `${file}:${line}:${column}: not valid JSON: ${jsonReason(message)}. ` +
        'Fix the syntax there (JSON allows no comments and no trailing commas)',
      file,
    );
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.flatMap((i) => {
      const path = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') {
        // One line per key (its message already says where), the path naming the key itself.
        const messages = i.message.split('\n');
        return i.keys.map((key, n) => ({
          path: path ? `${path}.${key}` : key,
          message: messages[n] ?? i.message,
          placed: true,
        }));
      }
      return [{ path: path || '(root)', message: i.message, placed: i.message.startsWith('unknown key ') }];
    });
    const lines = issues.map((i) => (i.placed ? `  ${i.message}` : `  ${i.path}: ${i.message}`)).join('\n');
    throw new ConfigError(
      `${file}: invalid configuration\n${lines}`,
      file,
      issues.map(({ path, message }) => ({ path, message })),
    );
  }
  return result.data;
}

export function loadConfig(explicitPath?: string): GeofailoverConfig {
  const file = resolveConfigPath(explicitPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${file}: no such file. Pass --config FILE, set GEOFAILOVER_CONFIG, or copy geofailover.config.example.json`
        : `${file}: cannot read (${(e as Error).message})`,
      file,
    );
  }
  return parseConfig(text, file);
}
