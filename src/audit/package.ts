/**
 * The evidence package: report.md, report.html, report.json (as `--format` asks), history.json (the exported
 * history) and SHA256SUMS over all of them, in `sha256sum` format so `sha256sum -c SHA256SUMS` checks it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderHtml } from './report/html';
import { renderJson } from './report/json';
import { renderMarkdown } from './report/markdown';
import type { EvidenceReport } from './report/schema';

export const REPORT_FORMATS = ['md', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const PACKAGE_FILES = {
  md: 'report.md',
  html: 'report.html',
  json: 'report.json',
  history: 'history.json',
  sums: 'SHA256SUMS',
} as const;

/** Thrown for a `--format` list that names something else; the message lists what is accepted. */
export class FormatError extends Error {
  override name = 'FormatError';
}

/**
 * Parses `--format md,json,html` (any subset, any order, case-insensitive).
 * @throws FormatError naming the unknown format.
 */
export function parseFormats(value: string): ReportFormat[] {
  const wanted = value
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (unknown.length || !wanted.length) {
    throw new FormatError(
      `--format takes a comma-separated list of ${REPORT_FORMATS.join(', ')}` +
        (unknown.length ? `; unknown: ${unknown.join(', ')}` : '; got an empty list'),
    );
  }
  return REPORT_FORMATS.filter((f) => wanted.includes(f));
}

/** evidence/<workflow id with every / replaced by _>, under `baseDir` (default: the current directory). */
export function defaultEvidenceDir(workflowId: string, baseDir = process.cwd()): string {
  const safe = workflowId.replace(/[/\\]/g, '_').replace(/^\.+/, '_') || 'workflow';
  return path.join(baseDir, 'evidence', safe);
}

export interface PackageFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface EvidencePackage {
  dir: string;
  /** every file written, SHA256SUMS last (its own hash is listed, not checked by it) */
  files: PackageFile[];
  totalBytes: number;
}

export interface WritePackageOptions {
  report: EvidenceReport;
  /** the exported history (historyToJSON), stored as history.json */
  historyJson: string;
  dir: string;
  /** default: every format */
  formats?: readonly ReportFormat[];
}

/**
 * Writes the package into `dir` (created when missing). Report files of formats not asked for are not
 * written; files of an earlier package in the same directory are left alone but not listed in SHA256SUMS.
 */
export function writeEvidencePackage(options: WritePackageOptions): EvidencePackage {
  const { report, historyJson, dir } = options;
  const formats = options.formats ?? REPORT_FORMATS;
  mkdirSync(dir, { recursive: true });
  const contents: [string, string][] = [];
  if (formats.includes('md')) contents.push([PACKAGE_FILES.md, renderMarkdown(report)]);
  if (formats.includes('html')) contents.push([PACKAGE_FILES.html, renderHtml(report)]);
  if (formats.includes('json')) contents.push([PACKAGE_FILES.json, renderJson(report)]);
  contents.push([PACKAGE_FILES.history, historyJson]);
  const files: PackageFile[] = contents.map(([name, text]) => {
    const data = Buffer.from(text, 'utf8');
    writeFileSync(path.join(dir, name), data);
    return { name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  });
  const sums = Buffer.from(files.map((f) => `${f.sha256}  ${f.name}\n`).join(''), 'utf8');
  writeFileSync(path.join(dir, PACKAGE_FILES.sums), sums);
  files.push({ name: PACKAGE_FILES.sums, bytes: sums.length, sha256: createHash('sha256').update(sums).digest('hex') });
  return { dir, files, totalBytes: files.reduce((n, f) => n + f.bytes, 0) };
}

/** Files in `dir` that an earlier run left and this package does not list (for a warning). */
export function staleFiles(pkg: EvidencePackage): string[] {
  const listed = new Set(pkg.files.map((f) => f.name));
  const known = new Set<string>(Object.values(PACKAGE_FILES));
  return readdirSync(pkg.dir).filter((f) => known.has(f) && !listed.has(f));
}
