// Low-level FlatBuffers access that the npm runtime lacks: a bounds-checked table reader for hostile bytes,
// and int64 fields read and written as safe-integer numbers (the generated code uses bigint, which costs
// several allocations per field on the hot path).
//
// Field indices are the declaration order in schemas/oms.fbs (vtable slot = 4 + 2 x index). The round-trip
// tests in test/wire.test.ts compare every reader here with the generated accessors, so a schema edit that
// moves a field fails there rather than misreading money.

import * as flatbuffers from 'flatbuffers';

export const FILE_IDENTIFIER = 'OMS1';
/** Identifier of the WebSocket session protocol (schemas/session.fbs). */
export const SESSION_FILE_IDENTIFIER = 'OMSS';
/** Identifier of a client frame wrapped with the gateway's stamp (schemas/stamped.fbs). */
export const STAMPED_FILE_IDENTIFIER = 'OMSG';
const TWO_POW_32 = 4294967296;
/** High word bound of a safe integer: |x| < 2^53 means |hi| < 2^21. */
const SAFE_HI_MAX = 0x1fffff;

/** Why a frame could not be read; the decoder maps these onto RejectCode values. */
export class WireError extends Error {
  constructor(readonly kind: 'malformed' | 'unknown_field' | 'out_of_range', message: string) {
    super(message);
  }
}

/**
 * A verified view of one table. Construction checks the table and its vtable lie inside the buffer and
 * that it declares no field beyond `fieldCount` (an unknown field from a newer schema is refused, not
 * ignored); every accessor checks the offsets it follows.
 */
export class TableReader {
  bb!: flatbuffers.ByteBuffer;
  pos = 0;
  private vtable = 0;
  private vtableSize = 0;
  private objectSize = 0;
  private limit = 0;

  /** Re-targets this reader (readers are reused so that decoding allocates nothing but strings). */
  init(bb: flatbuffers.ByteBuffer, pos: number, fieldCount: number): this {
    const limit = bb.capacity();
    if (pos < 0 || pos + 4 > limit || (pos & 3) !== 0) throw new WireError('malformed', 'table offset out of bounds');
    const vtable = pos - bb.readInt32(pos);
    if (vtable < 0 || vtable + 4 > limit || (vtable & 1) !== 0) throw new WireError('malformed', 'vtable out of bounds');
    const vtableSize = bb.readUint16(vtable);
    const objectSize = bb.readUint16(vtable + 2);
    if (vtableSize < 4 || (vtableSize & 1) !== 0 || vtable + vtableSize > limit) {
      throw new WireError('malformed', 'vtable size invalid');
    }
    if (objectSize < 4 || pos + objectSize > limit) throw new WireError('malformed', 'table size invalid');
    for (let slot = 4 + 2 * fieldCount; slot < vtableSize; slot += 2) {
      if (bb.readUint16(vtable + slot) !== 0) {
        throw new WireError('unknown_field', `unknown field ${(slot - 4) / 2} in table`);
      }
    }
    this.bb = bb;
    this.pos = pos;
    this.vtable = vtable;
    this.vtableSize = vtableSize;
    this.objectSize = objectSize;
    this.limit = limit;
    return this;
  }

  /** Position of a present field, or 0. Checks the field (of `width` bytes) lies inside the table. */
  private field(index: number, width: number): number {
    const slot = 4 + 2 * index;
    if (slot >= this.vtableSize) return 0;
    const offset = this.bb.readUint16(this.vtable + slot);
    if (offset === 0) return 0;
    if (offset + width > this.objectSize) throw new WireError('malformed', `field ${index} outside its table`);
    return this.pos + offset;
  }

  has(index: number): boolean {
    return this.field(index, 1) !== 0;
  }

  u8(index: number, fallback = 0): number {
    const at = this.field(index, 1);
    return at === 0 ? fallback : this.bb.readUint8(at);
  }

  u16(index: number, fallback = 0): number {
    const at = this.field(index, 2);
    return at === 0 ? fallback : this.bb.readUint16(at);
  }

  u32(index: number, fallback = 0): number {
    const at = this.field(index, 4);
    return at === 0 ? fallback : this.bb.readUint32(at);
  }

  bool(index: number, fallback = false): boolean {
    const at = this.field(index, 1);
    if (at === 0) return fallback;
    const value = this.bb.readUint8(at);
    if (value > 1) throw new WireError('out_of_range', `field ${index}: boolean byte ${value}`);
    return value === 1;
  }

  /** An int64 field as a number; a value beyond +-(2^53 - 1) is refused rather than rounded. */
  i64(index: number, fallback = 0): number {
    const at = this.field(index, 8);
    if (at === 0) return fallback;
    const lo = this.bb.readUint32(at);
    const hi = this.bb.readInt32(at + 4);
    if (hi > SAFE_HI_MAX || hi < -SAFE_HI_MAX - 1 || (hi === -SAFE_HI_MAX - 1 && lo === 0)) {
      throw new WireError('out_of_range', `field ${index}: 64-bit value beyond a safe integer`);
    }
    return hi * TWO_POW_32 + lo;
  }

  /** A uint64 field (request ids): same safe-integer bound. */
  u64(index: number): number {
    const value = this.i64(index);
    if (value < 0) throw new WireError('out_of_range', `field ${index}: unsigned value beyond a safe integer`);
    return value;
  }

  /** Absolute position of the table or vector an offset field points at, checked; 0 if absent. */
  ref(index: number): number {
    const at = this.field(index, 4);
    if (at === 0) return 0;
    const target = at + this.bb.readUint32(at);
    if (target + 4 > this.limit) throw new WireError('malformed', `field ${index}: reference out of bounds`);
    return target;
  }

  str(index: number, maxBytes: number): string | null {
    const target = this.ref(index);
    if (target === 0) return null;
    const length = this.bb.readUint32(target);
    if (length > maxBytes) throw new WireError('out_of_range', `field ${index}: string longer than ${maxBytes} bytes`);
    // FlatBuffers strings end with a NUL that the length does not count (the official verifier checks it):
    // a frame cut just before it is truncated, not a shorter valid frame.
    if (target + 4 + length >= this.limit) throw new WireError('malformed', `field ${index}: string out of bounds`);
    if (this.bb.readUint8(target + 4 + length) !== 0) throw new WireError('malformed', `field ${index}: string not NUL-terminated`);
    return decodeUtf8(this.bb.bytes(), target + 4, length);
  }

  /** A [ubyte] vector as a view of the frame (no copy), checked; null if absent. */
  byteVector(index: number, maxLength: number): Uint8Array | null {
    const target = this.ref(index);
    if (target === 0) return null;
    const length = this.bb.readUint32(target);
    if (length > maxLength) throw new WireError('out_of_range', `field ${index}: more than ${maxLength} bytes`);
    if (target + 4 + length > this.limit) throw new WireError('malformed', `field ${index}: vector out of bounds`);
    return this.bb.bytes().subarray(target + 4, target + 4 + length);
  }

  /** A vector of uint32, checked, copied out (reference data only: not on the hot path). */
  u32Vector(index: number, maxLength: number): number[] {
    const target = this.ref(index);
    if (target === 0) return [];
    const length = this.bb.readUint32(target);
    if (length > maxLength) throw new WireError('out_of_range', `field ${index}: more than ${maxLength} elements`);
    if (target + 4 + length * 4 > this.limit) throw new WireError('malformed', `field ${index}: vector out of bounds`);
    const values: number[] = [];
    for (let i = 0; i < length; i++) values.push(this.bb.readUint32(target + 4 + i * 4));
    return values;
  }
}

// Fatal: invalid UTF-8 from a socket is a malformed frame, not a string with replacement characters.
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ASCII_FAST_PATH_BYTES_MAX = 48;

/** Identifiers are short ASCII; building them from char codes avoids TextDecoder's per-call overhead. */
function decodeUtf8(bytes: Uint8Array, start: number, length: number): string {
  if (length <= ASCII_FAST_PATH_BYTES_MAX) {
    let text = '';
    for (let i = start; i < start + length; i++) {
      const byte = bytes[i];
      if (byte >= 0x80) return decodeUtf8Slow(bytes, start, length);
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decodeUtf8Slow(bytes, start, length);
}

function decodeUtf8Slow(bytes: Uint8Array, start: number, length: number): string {
  try {
    return UTF8.decode(bytes.subarray(start, start + length));
  } catch {
    throw new WireError('malformed', 'string is not valid UTF-8');
  }
}

/** Checks the frame header: minimum size and file identifier. Returns the root table position. */
export function rootPosition(bb: flatbuffers.ByteBuffer, identifier: string = FILE_IDENTIFIER): number {
  const bytes = bb.bytes();
  if (bytes.length < 12) throw new WireError('malformed', `frame of ${bytes.length} bytes is too short`);
  if (!hasIdentifier(bytes, identifier)) throw new WireError('malformed', `wrong file identifier (expected ${identifier})`);
  return bb.readUint32(0);
}

/** Whether a frame carries the 4-character file identifier at bytes 4..7. */
export function hasIdentifier(bytes: Uint8Array, identifier: string): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 4; i++) {
    if (bytes[4 + i] !== identifier.charCodeAt(i)) return false;
  }
  return true;
}

/** Adds an int64 field from a safe-integer number without going through bigint. */
export function addI64(builder: flatbuffers.Builder, index: number, value: number, fallback = 0): void {
  if (value === fallback) return;
  if (!Number.isSafeInteger(value)) throw new RangeError(`int64 field ${index}: ${value} is not a safe integer`);
  const lo = value % TWO_POW_32;
  const lowWord = lo < 0 ? lo + TWO_POW_32 : lo;
  const hi = (value - lowWord) / TWO_POW_32;
  builder.prep(8, 0);
  // The builder writes downwards, so the high word goes first to land above the low word (little-endian).
  builder.writeInt32(hi | 0);
  builder.writeInt32(lowWord | 0);
  builder.slot(index);
}
