/**
 * The evidence package: report.md, report.html, report.json (as `--format` asks), history.json (the exported
 * history), signatures/ (every accepted decision's exact statement and signature, the recorded policy's
 * allowed_signers and VERIFY.md with the ssh-keygen commands) and SHA256SUMS over all of them, in `sha256sum`
 * format so `sha256sum -c SHA256SUMS` checks it; SHA256SUMS.sig, when the auditor signs the package, is an SSHSIG
 * (namespace geofailover) over SHA256SUMS.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allowedSigners } from '../signing/allowed-signers';
import { parsePublicKey } from '../signing/ssh-key';
import { SIGNING_NAMESPACE, signSshSig } from '../signing/sshsig';
import { sshKeygenCommand } from './report/format';
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
  sumsSignature: 'SHA256SUMS.sig',
  signatures: 'signatures',
  allowedSigners: 'signatures/allowed_signers',
  verify: 'signatures/VERIFY.md',
} as const;

/** The files of a decision in signatures/: NN-<action>-<signer>.statement (exact signed bytes) and .sig. */
export function signatureFileNames(file: string): { statement: string; signature: string } {
  return {
    statement: `${PACKAGE_FILES.signatures}/${file}.statement`,
    signature: `${PACKAGE_FILES.signatures}/${file}.sig`,
  };
}

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

const safeName = (name: string): string => name.replace(/[/\\]/g, '_').replace(/^\.+/, '_');

/**
 * evidence/<workflow id with every / replaced by _>_<run id>, under `baseDir` (default: the current directory): one
 * folder per run, so auditing another run of the same workflow id never lands on an earlier package.
 */
export function defaultEvidenceDir(workflowId: string, baseDir = process.cwd(), runId?: string): string {
  const safe = safeName(workflowId) || 'workflow';
  return path.join(baseDir, 'evidence', runId ? `${safe}_${safeName(runId)}` : safe);
}

/** Thrown for an output folder that already holds files, when overwriting was not asked for. */
export class OutputDirError extends Error {
  override name = 'OutputDirError';
  constructor(readonly dir: string) {
    super(`${dir} already holds files: an evidence package is never written over another`);
  }
}

/**
 * Refuses a folder that exists and is not empty, unless `force`: an evidence package must not silently replace
 * another.
 * @throws OutputDirError
 */
export function refuseNonEmptyDir(dir: string, force = false): void {
  if (force || !existsSync(dir)) return;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // not a directory, or unreadable: writing the package says what is wrong
  }
  if (entries.length) throw new OutputDirError(dir);
}

export interface PackageFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface EvidencePackage {
  dir: string;
  /** every file written, SHA256SUMS (and SHA256SUMS.sig) last: their own hashes are listed, not checked by SUMS */
  files: PackageFile[];
  totalBytes: number;
  /** how many decisions signatures/ holds (the start request included) */
  signatures: number;
  /** the key that signed SHA256SUMS, when the package is signed */
  signedBy?: { fingerprint: string; publicKey: string };
}

/** The key an auditor signs SHA256SUMS with (node-keys readPrivateKey). */
export interface PackageSigningKey {
  /** the 32-byte Ed25519 seed */
  secretKey: Uint8Array;
  /** "ssh-ed25519 AAAA… comment" */
  publicKeyLine: string;
}

export interface WritePackageOptions {
  report: EvidenceReport;
  /** the exported history (historyToJSON), stored as history.json */
  historyJson: string;
  /** an incident that continued as new: each run's own history, stored as runs/run-N.json (history.json merges them) */
  runHistories?: readonly string[];
  dir: string;
  /** default: every format */
  formats?: readonly ReportFormat[];
  /** sign SHA256SUMS with this key (SHA256SUMS.sig); default: unsigned */
  signKey?: PackageSigningKey;
}

/** signatures/VERIFY.md: how to check the package and every decision with standard tools. */
export function verifyInstructions(report: EvidenceReport, hasAllowedSigners: boolean): string {
  const lines = [
    `# Verifying the evidence of ${report.workflow.workflowId}`,
    '',
    'Everything here can be checked without geofailover, with sha256sum and OpenSSH (8.2 or later).',
    '',
    '1. Every file of the package, in the package directory (the one holding SHA256SUMS):',
    '',
    '       sha256sum -c SHA256SUMS',
    '',
    "2. The auditor's signature over SHA256SUMS, when SHA256SUMS.sig exists. Use an allowed_signers file YOU trust",
    "   that names the auditor's key, never the one in this folder (whoever could edit the package could edit it):",
    '',
    '       ssh-keygen -Y verify -f YOUR_ALLOWED_SIGNERS -I AUDITOR -n geofailover -s SHA256SUMS.sig < SHA256SUMS',
    '',
    '3. Every accepted decision, in this folder (signatures/). allowed_signers here holds the keys of the policy the',
    '   worker recorded in history.json; compare them with the keys you know for these people. Each .statement is the',
    '   exact text that was signed:',
    '',
  ];
  if (!hasAllowedSigners)
    lines.push('   (the history records no usable policy, so there is no allowed_signers file)', '');
  if (!report.signatures.length) lines.push('   (no accepted decision carries a verified signature)');
  for (const s of report.signatures) lines.push(`       ${sshKeygenCommand(s.file, s.signer)}`);
  lines.push(
    '',
    '   Each prints: Good "geofailover" signature for NAME with ED25519 key SHA256:…',
    '',
    '4. All of the above, and the report rebuilt from history.json and compared with report.json:',
    '',
    '       geofailover audit --verify DIR --config geofailover.config.json   (or --allowed-signers FILE)',
    '',
  );
  return lines.join('\n');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Removes what an earlier package in `dir` left in signatures/ (its own files only), so nothing stale is listed. */
function clearSignatures(dir: string): void {
  const folder = path.join(dir, PACKAGE_FILES.signatures);
  if (!existsSync(folder)) return;
  for (const name of readdirSync(folder)) {
    if (/\.(statement|sig)$/.test(name) || name === 'allowed_signers' || name === 'VERIFY.md') {
      rmSync(path.join(folder, name), { force: true });
    }
  }
}

/**
 * Writes the package into `dir` (created when missing). Report files of formats not asked for are not
 * written; files of an earlier package in the same directory are left alone but not listed in SHA256SUMS.
 */
export function writeEvidencePackage(options: WritePackageOptions): EvidencePackage {
  const { report, historyJson, dir } = options;
  const formats = options.formats ?? REPORT_FORMATS;
  mkdirSync(path.join(dir, PACKAGE_FILES.signatures), { recursive: true });
  clearSignatures(dir);
  rmSync(path.join(dir, PACKAGE_FILES.sumsSignature), { force: true });
  const contents: [string, string][] = [];
  if (formats.includes('md')) contents.push([PACKAGE_FILES.md, renderMarkdown(report)]);
  if (formats.includes('html')) contents.push([PACKAGE_FILES.html, renderHtml(report)]);
  if (formats.includes('json')) contents.push([PACKAGE_FILES.json, renderJson(report)]);
  contents.push([PACKAGE_FILES.history, historyJson]);
  if (options.runHistories?.length) {
    mkdirSync(path.join(dir, 'runs'), { recursive: true });
    options.runHistories.forEach((json, i) => contents.push([`runs/run-${i + 1}.json`, json]));
  }
  for (const s of report.signatures) {
    const names = signatureFileNames(s.file);
    // The statement exactly as signed (no newline added): ssh-keygen verifies these bytes.
    contents.push([names.statement, s.statement], [names.signature, s.signature]);
  }
  let signers: string | undefined;
  try {
    signers = report.policy ? allowedSigners(report.policy.people) : undefined;
  } catch {
    signers = undefined; // a policy whose names or keys are unusable: VERIFY.md says there is no file
  }
  if (signers !== undefined) contents.push([PACKAGE_FILES.allowedSigners, signers]);
  contents.push([PACKAGE_FILES.verify, verifyInstructions(report, signers !== undefined)]);
  const files: PackageFile[] = contents.map(([name, text]) => {
    const data = Buffer.from(text, 'utf8');
    writeFileSync(path.join(dir, name), data);
    return { name, bytes: data.length, sha256: sha256(data) };
  });
  const sums = Buffer.from(files.map((f) => `${f.sha256}  ${f.name}\n`).join(''), 'utf8');
  writeFileSync(path.join(dir, PACKAGE_FILES.sums), sums);
  files.push({ name: PACKAGE_FILES.sums, bytes: sums.length, sha256: sha256(sums) });
  const pkg: EvidencePackage = { dir, files, totalBytes: 0, signatures: report.signatures.length };
  if (options.signKey) {
    const armored = Buffer.from(
      signSshSig({ message: sums, secretKey: options.signKey.secretKey, namespace: SIGNING_NAMESPACE }),
      'utf8',
    );
    writeFileSync(path.join(dir, PACKAGE_FILES.sumsSignature), armored);
    files.push({ name: PACKAGE_FILES.sumsSignature, bytes: armored.length, sha256: sha256(armored) });
    const key = parsePublicKey(options.signKey.publicKeyLine);
    pkg.signedBy = {
      fingerprint: key.ok ? key.key.fingerprint : '(unknown)',
      publicKey: options.signKey.publicKeyLine,
    };
  }
  pkg.totalBytes = files.reduce((n, f) => n + f.bytes, 0);
  return pkg;
}

/** Files in `dir` that an earlier run left and this package does not list (for a warning). */
export function staleFiles(pkg: EvidencePackage): string[] {
  const listed = new Set(pkg.files.map((f) => f.name));
  const known = new Set<string>(Object.values(PACKAGE_FILES));
  return readdirSync(pkg.dir).filter((f) => known.has(f) && !listed.has(f) && f !== PACKAGE_FILES.signatures);
}
