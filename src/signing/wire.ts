// SSH wire encoding (RFC 4251 §5) over Uint8Array. Sandbox-safe: no Buffer, no Node built-ins.

const utf8Encoder = new TextEncoder();
// fatal: a key type or namespace that is not valid UTF-8 must not compare equal to a valid one after U+FFFD repair.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decoded text, or undefined when the bytes are not valid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function uint32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}

/** `string` in SSH encoding: uint32 length, then the bytes. */
export function sshString(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  return concatBytes(uint32(bytes.length), bytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Reads SSH wire fields; every read returns undefined instead of running past the end. */
export class WireReader {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  bytes(n: number): Uint8Array | undefined {
    if (n < 0 || n > this.remaining) return undefined;
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  uint32(): number | undefined {
    const b = this.bytes(4);
    return b && new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  string(): Uint8Array | undefined {
    const length = this.uint32();
    return length === undefined ? undefined : this.bytes(length);
  }

  /** A string field that must be UTF-8 text. */
  text(): string | undefined {
    const b = this.string();
    return b && fromUtf8(b);
  }
}

/** A value safe to put in a one-sentence reason: JSON-quoted (control characters escaped), at most ~80 chars. */
export function quote(value: string, max = 80): string {
  let cut = value.length > max;
  let q = JSON.stringify(cut ? value.slice(0, max) : value).slice(1, -1);
  if (q.length > max) {
    // Escapes can multiply the length; drop any escape sequence the cut split.
    q = q.slice(0, max).replace(/\\(u[0-9a-fA-F]{0,3})?$/, '');
    cut = true;
  }
  return `"${q}${cut ? '…' : ''}"`;
}

/** What kind of value this is, for reasons about a wrong type: "a number", "null", "an array", "missing". */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a byte array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
