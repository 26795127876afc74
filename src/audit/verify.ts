/**
 * `geofailover audit --verify DIR`: checks an evidence package as an auditor receives it. Every file against
 * SHA256SUMS; SHA256SUMS.sig (when present) against signers the auditor trusts — never the package's own
 * allowed_signers, which whoever edited the package could have edited too; every decision's statement and
 * signature in signatures/ against the policy recorded in history.json; and the report re-derived from
 * history.json, compared with report.json (and report.md, report.html) byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { allowedSigners } from '../signing/allowed-signers';
import { verifyProof } from '../signing/proof';
import { parsePublicKey } from '../signing/ssh-key';
import { SIGNING_NAMESPACE, verifySshSig } from '../signing/sshsig';
import { bytesEqual } from '../signing/wire';
import { HistoryError, readHistoryFile, type LoadedHistory } from './history';
import { PACKAGE_FILES, signatureFileNames } from './package';
import { renderHtml } from './report/html';
import { renderJson } from './report/json';
import { renderMarkdown } from './report/markdown';
import { buildEvidenceReport } from './report/model';
import type { EvidenceReport } from './report/schema';

/** Signers the auditor trusts for SHA256SUMS.sig: person → OpenSSH public key lines, and where they come from. */
export interface TrustedSigners {
  /** e.g. "--allowed-signers auditors.txt" or "the people of geofailover.config.json" */
  source: string;
  people: Record<string, string[]>;
}

export interface VerifyFinding {
  /** sums, sums-signature, decisions, report, package */
  check: 'sums' | 'sums-signature' | 'decisions' | 'report' | 'package';
  /** the file it is about, relative to the package directory */
  file?: string;
  message: string;
}

export interface DecisionVerification {
  /** NN-<action>-<signer> */
  file: string;
  signer: string;
  fingerprint?: string;
  ok: boolean;
  reason?: string;
  /** when the trusted signers name this signer: whether they list this key for them */
  trusted?: boolean;
}

export interface PackageVerification {
  dir: string;
  verified: boolean;
  sums: { files: number; ok: number };
  sumsSignature:
    | { status: 'unsigned' }
    | { status: 'verified'; signer: string; fingerprint: string; trustedFrom: string }
    | { status: 'failed'; reason: string; fingerprint?: string };
  decisions: DecisionVerification[];
  report: { status: 'matches' | 'differs' | 'not-checked'; detail: string };
  /** everything that failed; empty when verified */
  failures: VerifyFinding[];
  /** what is worth knowing but does not fail the package */
  warnings: string[];
}

const SUMS_LINE = /^([0-9a-f]{64}) [ *](.+)$/;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A name from SHA256SUMS that stays inside the package: relative, no `..`, no backslashes. */
function safeName(name: string): boolean {
  if (!name || name.includes('\\') || name.includes('\0') || path.isAbsolute(name)) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Every file under `dir`, relative, with / separators. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/**
 * Parses an OpenSSH allowed_signers file (principals [options] keytype base64 [comment]) into person → key lines.
 * Lines whose namespaces option leaves out geofailover, cert-authority lines and unreadable keys are skipped
 * and named in `skipped`.
 */
export function parseAllowedSigners(text: string): { people: Record<string, string[]>; skipped: string[] } {
  const people: Record<string, string[]> = {};
  const skipped: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const tokens = line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    const principals = (tokens.shift() ?? '').split(',').filter(Boolean);
    const options: string[] = [];
    while (tokens.length && !/^(ssh-|ecdsa-|sk-)/.test(tokens[0] as string)) options.push(tokens.shift() as string);
    const keyLine = tokens.slice(0, 2).join(' ');
    const where = `line ${index + 1}`;
    if (options.some((o) => /^cert-authority$/i.test(o))) {
      skipped.push(`${where}: cert-authority keys are not supported`);
      return;
    }
    const namespaces = options.find((o) => /^namespaces=/i.test(o));
    if (namespaces) {
      const list = namespaces
        .replace(/^namespaces=/i, '')
        .replace(/^"|"$/g, '')
        .split(',');
      if (!list.some((n) => n === SIGNING_NAMESPACE || n === '*')) {
        skipped.push(`${where}: not valid for namespace ${SIGNING_NAMESPACE}`);
        return;
      }
    }
    const key = parsePublicKey(keyLine);
    if (!key.ok || !principals.length) {
      skipped.push(`${where}: ${key.ok ? 'no principal' : key.reason}`);
      return;
    }
    for (const p of principals) (people[p] ??= []).push(keyLine);
  });
  return { people, skipped };
}

/** The people whose key (in `people`) made `fingerprint`'s signature: compares key blobs. */
function ownersOf(people: Record<string, readonly string[]>, blob: Uint8Array): string[] {
  return Object.entries(people)
    .filter(([, lines]) =>
      lines.some((line) => {
        const key = parsePublicKey(line);
        return key.ok && bytesEqual(key.key.blob, blob);
      }),
    )
    .map(([name]) => name)
    .sort();
}

/** The first place two JSON values differ, as a path ("decisions[2].verdict"), with both values shortened. */
export function firstDifference(
  a: unknown,
  b: unknown,
  at = '',
): { path: string; left: string; right: string } | undefined {
  const shown = (v: unknown): string => {
    const text = v === undefined ? 'nothing' : JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  if (Object.is(a, b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        at ? `${at}.${k}` : k,
      );
      if (d) return d;
    }
    return undefined;
  }
  return { path: at || '(the whole document)', left: shown(a), right: shown(b) };
}

export interface VerifyPackageOptions {
  dir: string;
  /** signers trusted for SHA256SUMS.sig (and compared with the decisions' keys); none: a signed package fails */
  trusted?: TrustedSigners;
  /** fail an unsigned package (whoever edits a package can also delete SHA256SUMS.sig) */
  requireSignature?: boolean;
}

/** Checks an evidence package; never throws for what it finds (that is the result), only for an unreadable dir. */
export function verifyPackage(options: VerifyPackageOptions): PackageVerification {
  const dir = path.resolve(options.dir);
  const failures: VerifyFinding[] = [];
  const warnings: string[] = [];
  const fail = (check: VerifyFinding['check'], message: string, file?: string): void =>
    void failures.push({ check, message, ...(file ? { file } : {}) });
  const result: PackageVerification = {
    dir,
    verified: false,
    sums: { files: 0, ok: 0 },
    sumsSignature: { status: 'unsigned' },
    decisions: [],
    report: { status: 'not-checked', detail: '' },
    failures,
    warnings,
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    fail('package', `${options.dir} is not a directory`);
    return result;
  }
  const read = (name: string): Buffer | undefined => {
    const file = path.join(dir, name);
    return existsSync(file) && statSync(file).isFile() ? readFileSync(file) : undefined;
  };

  // 1. Every file against SHA256SUMS.
  const sums = read(PACKAGE_FILES.sums);
  const listed = new Set<string>();
  if (!sums)
    fail('sums', `${PACKAGE_FILES.sums} is missing: nothing in the package can be checked`, PACKAGE_FILES.sums);
  else {
    sums
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        const m = SUMS_LINE.exec(line);
        if (!m || !safeName(m[2] as string)) {
          fail(
            'sums',
            `${PACKAGE_FILES.sums} line ${i + 1} is not "<sha256>  <file inside the package>"`,
            'SHA256SUMS',
          );
          return;
        }
        const [, expected, name] = m as unknown as [string, string, string];
        listed.add(name);
        result.sums.files += 1;
        const data = read(name);
        if (!data) fail('sums', `${name} is listed in ${PACKAGE_FILES.sums} but missing`, name);
        else if (sha256(data) !== expected) {
          fail(
            'sums',
            `${name} was changed after the package was written: its sha256 differs from ${PACKAGE_FILES.sums}`,
            name,
          );
        } else result.sums.ok += 1;
      });
    const unlisted = listFiles(dir).filter(
      (f) => !listed.has(f) && f !== PACKAGE_FILES.sums && f !== PACKAGE_FILES.sumsSignature,
    );
    if (unlisted.length) warnings.push(`not covered by ${PACKAGE_FILES.sums} (ignored): ${unlisted.join(', ')}`);
  }

  // 2. SHA256SUMS.sig against the signers the auditor trusts.
  const sumsSig = read(PACKAGE_FILES.sumsSignature);
  if (sumsSig && sums) {
    const sig = verifySshSig({ message: sums, armored: sumsSig.toString('utf8'), namespace: SIGNING_NAMESPACE });
    if (!sig.ok) {
      result.sumsSignature = { status: 'failed', reason: sig.reason };
      fail(
        'sums-signature',
        `${PACKAGE_FILES.sumsSignature} does not verify over ${PACKAGE_FILES.sums}: ${sig.reason}`,
        PACKAGE_FILES.sumsSignature,
      );
    } else if (!options.trusted) {
      const reason =
        `signed by key ${sig.fingerprint}, but no trusted signers were given to check it against: pass ` +
        "--allowed-signers FILE or --config FILE (the package's own allowed_signers is no trust anchor)";
      result.sumsSignature = { status: 'failed', reason, fingerprint: sig.fingerprint };
      fail('sums-signature', `${PACKAGE_FILES.sumsSignature} is ${reason}`, PACKAGE_FILES.sumsSignature);
    } else {
      const owners = ownersOf(options.trusted.people, sig.publicKeyBlob);
      if (!owners.length) {
        const reason = `signed by key ${sig.fingerprint}, which ${options.trusted.source} does not list`;
        result.sumsSignature = { status: 'failed', reason, fingerprint: sig.fingerprint };
        fail('sums-signature', `${PACKAGE_FILES.sumsSignature} is ${reason}`, PACKAGE_FILES.sumsSignature);
      } else {
        result.sumsSignature = {
          status: 'verified',
          signer: owners.join(', '),
          fingerprint: sig.fingerprint,
          trustedFrom: options.trusted.source,
        };
      }
    }
  } else if (sumsSig && !sums) {
    result.sumsSignature = { status: 'failed', reason: `${PACKAGE_FILES.sums} is missing` };
  } else if (options.requireSignature) {
    fail(
      'sums-signature',
      `${PACKAGE_FILES.sumsSignature} is missing: the package is unsigned, and a signature was required`,
      PACKAGE_FILES.sumsSignature,
    );
  }

  // 3. The history, the report re-derived from it, and every decision it accepted.
  const historyText = read(PACKAGE_FILES.history);
  let loaded: LoadedHistory | undefined;
  if (!historyText) warnings.push(`the package holds no ${PACKAGE_FILES.history}: the report cannot be re-derived`);
  else {
    try {
      loaded = readHistoryFile(path.join(dir, PACKAGE_FILES.history));
    } catch (e) {
      const message = e instanceof HistoryError ? e.message : (e as Error).message;
      fail(
        'report',
        `${PACKAGE_FILES.history} cannot be read as a workflow history: ${message}`,
        PACKAGE_FILES.history,
      );
    }
  }
  const reportText = read(PACKAGE_FILES.json)?.toString('utf8');
  let stored: EvidenceReport | undefined;
  if (reportText !== undefined) {
    try {
      stored = JSON.parse(reportText) as EvidenceReport;
    } catch (e) {
      fail('report', `${PACKAGE_FILES.json} is not JSON: ${(e as Error).message}`, PACKAGE_FILES.json);
    }
  }

  let rebuilt: EvidenceReport | undefined;
  if (loaded) {
    try {
      rebuilt = buildEvidenceReport(loaded.history, {
        workflowId: loaded.workflowId,
        // What the history cannot give back: when and how the report was made, and the replay verdict.
        replay: stored?.replay ?? {
          verdict: 'verified',
          workflowType: 'unknown',
          checkedAt: new Date(0).toISOString(),
          durationMs: 0,
          against: 'not replayed',
        },
        source: stored?.source ?? { kind: 'file', file: PACKAGE_FILES.history },
        ...(stored?.generatedAt ? { generatedAt: stored.generatedAt } : {}),
      });
      if (stored?.generator) rebuilt.generator = stored.generator;
    } catch (e) {
      fail(
        'report',
        `the report cannot be re-derived from ${PACKAGE_FILES.history}: ${(e as Error).message}`,
        PACKAGE_FILES.history,
      );
    }
  }

  if (rebuilt && stored) {
    let rendered: string | undefined;
    try {
      rendered = renderJson(rebuilt);
    } catch (e) {
      fail(
        'report',
        `the report re-derived from ${PACKAGE_FILES.history} does not match its schema: ${(e as Error).message}`,
      );
    }
    if (rendered !== undefined && rendered !== reportText) {
      const d = firstDifference(stored, JSON.parse(rendered));
      const where = d
        ? ` at ${d.path}: report.json has ${d.left}, ${PACKAGE_FILES.history} gives ${d.right}`
        : ' (layout only)';
      result.report = { status: 'differs', detail: `${PACKAGE_FILES.json} differs${where}` };
      fail(
        'report',
        `${PACKAGE_FILES.json} is not the report ${PACKAGE_FILES.history} gives${where}: one of them was edited`,
        PACKAGE_FILES.json,
      );
    } else if (rendered !== undefined) {
      const others: [string, (r: EvidenceReport) => string][] = [
        [PACKAGE_FILES.md, renderMarkdown],
        [PACKAGE_FILES.html, renderHtml],
      ];
      const differing = others.filter(([name, render]) => {
        const text = read(name)?.toString('utf8');
        return text !== undefined && text !== render(rebuilt as EvidenceReport);
      });
      for (const [name] of differing) {
        fail(
          'report',
          `${name} is not the report ${PACKAGE_FILES.history} gives: it was edited (or made by another version)`,
          name,
        );
      }
      result.report = differing.length
        ? { status: 'differs', detail: `${differing.map(([n]) => n).join(', ')} differ from the re-derived report` }
        : {
            status: 'matches',
            detail:
              `re-derived from ${PACKAGE_FILES.history}: identical to ${[PACKAGE_FILES.json, ...others.map(([n]) => n).filter((n) => read(n))].join(', ')} ` +
              '(the replay verdict is taken from report.json, not re-run)',
          };
    }
  } else if (rebuilt && !stored && reportText === undefined) {
    result.report = { status: 'not-checked', detail: `the package holds no ${PACKAGE_FILES.json} to compare` };
  } else if (!rebuilt && !failures.some((f) => f.check === 'report')) {
    result.report = { status: 'not-checked', detail: `the package holds no ${PACKAGE_FILES.history}` };
  }

  verifyDecisions(dir, read, rebuilt, options.trusted, result, fail, warnings);
  result.verified = failures.length === 0;
  return result;
}

/** Every decision in signatures/: the files history.json says there must be, each statement and signature checked. */
function verifyDecisions(
  dir: string,
  read: (name: string) => Buffer | undefined,
  rebuilt: EvidenceReport | undefined,
  trusted: TrustedSigners | undefined,
  result: PackageVerification,
  fail: (check: VerifyFinding['check'], message: string, file?: string) => void,
  warnings: string[],
): void {
  const folder = path.join(dir, PACKAGE_FILES.signatures);
  const present = existsSync(folder)
    ? readdirSync(folder)
        .filter((f) => f.endsWith('.statement'))
        .map((f) => f.slice(0, -'.statement'.length))
    : [];
  const packageSigners = read(PACKAGE_FILES.allowedSigners)?.toString('utf8');
  let people: Record<string, string[]> | undefined = rebuilt?.policy?.people;
  if (rebuilt) {
    if (people) {
      let expected: string | undefined;
      try {
        expected = allowedSigners(people);
      } catch (e) {
        fail('decisions', `the policy recorded in ${PACKAGE_FILES.history} has unusable keys: ${(e as Error).message}`);
      }
      if (expected !== undefined && packageSigners !== expected) {
        fail(
          'decisions',
          packageSigners === undefined
            ? `${PACKAGE_FILES.allowedSigners} is missing`
            : `${PACKAGE_FILES.allowedSigners} is not the policy recorded in ${PACKAGE_FILES.history}: it was edited`,
          PACKAGE_FILES.allowedSigners,
        );
      }
    }
    const expectedFiles = new Set(rebuilt.signatures.map((s) => s.file));
    for (const extra of present.filter((f) => !expectedFiles.has(f))) {
      fail(
        'decisions',
        `${PACKAGE_FILES.signatures}/${extra}.statement is not an accepted decision of ${PACKAGE_FILES.history}`,
        `${PACKAGE_FILES.signatures}/${extra}.statement`,
      );
    }
  } else if (packageSigners !== undefined) {
    people = parseAllowedSigners(packageSigners).people;
    warnings.push(
      `decisions are checked against the package's own ${PACKAGE_FILES.allowedSigners} only: there is no history to take the policy from`,
    );
  }
  const entries: { file: string; signer?: string; fromHistory?: EvidenceReport['signatures'][number] }[] = rebuilt
    ? rebuilt.signatures.map((s) => ({ file: s.file, signer: s.signer, fromHistory: s }))
    : present.map((file) => ({ file }));

  for (const entry of entries) {
    const names = signatureFileNames(entry.file);
    const statement = read(names.statement)?.toString('utf8');
    const signature = read(names.signature)?.toString('utf8');
    const row: DecisionVerification = { file: entry.file, signer: entry.signer ?? '?', ok: false };
    result.decisions.push(row);
    if (statement === undefined || signature === undefined) {
      row.reason = `${statement === undefined ? names.statement : names.signature} is missing`;
      fail('decisions', row.reason, statement === undefined ? names.statement : names.signature);
      continue;
    }
    if (entry.fromHistory && statement !== entry.fromHistory.statement) {
      row.reason = `${names.statement} is not the statement ${PACKAGE_FILES.history} records: it was edited`;
      fail('decisions', row.reason, names.statement);
      continue;
    }
    if (entry.fromHistory && signature !== entry.fromHistory.signature) {
      row.reason = `${names.signature} is not the signature ${PACKAGE_FILES.history} records: it was edited`;
      fail('decisions', row.reason, names.signature);
      continue;
    }
    if (!people) {
      row.reason = 'no allowed signers to check it against';
      fail('decisions', `${names.statement}: ${row.reason}`, names.statement);
      continue;
    }
    const check = verifyProof({ statement, signature }, people);
    if (!check.ok) {
      row.reason = check.reason;
      if (check.actor) row.signer = check.actor;
      fail('decisions', `${names.statement} does not verify: ${check.reason}`, names.statement);
      continue;
    }
    row.signer = check.signer;
    row.fingerprint = check.fingerprint;
    if (entry.signer !== undefined && check.signer !== entry.signer) {
      row.reason = `signed by ${check.signer}, but the file names ${entry.signer}`;
      fail('decisions', `${names.statement}: ${row.reason}`, names.statement);
      continue;
    }
    row.ok = true;
    // Only for people the trusted signers name: an auditors-only file says nothing about the runbook's people.
    if (trusted && Object.hasOwn(trusted.people, check.signer)) {
      const keys = trusted.people[check.signer] ?? [];
      row.trusted = keys.some((line) => {
        const key = parsePublicKey(line);
        return key.ok && key.key.fingerprint === check.fingerprint;
      });
    }
  }
  if (trusted) {
    const untrusted = result.decisions.filter((d) => d.ok && d.trusted === false);
    if (untrusted.length) {
      warnings.push(
        `${untrusted.length} decision(s) are signed with keys ${trusted.source} does not list for their signer ` +
          `(${untrusted.map((d) => `${d.file}: ${d.fingerprint}`).join('; ')}): the policy the worker recorded had ` +
          'other keys for them than the ones you trust',
      );
    }
  }
}
