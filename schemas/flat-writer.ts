// A FlatBuffers writer for tables whose layout is fixed in advance: the hot-path counterpart of the npm
// runtime's Builder. The Builder tracks every field as it is added, aligns each one separately and searches
// all earlier vtables for a duplicate at the end of every table; that bookkeeping was over half of the
// cost of emitting an execution report. Here a table's layout (TableLayout) is computed once per schema
// table, every field is written at a known position with one store, and a vtable is written once per batch
// for each layout and set of present optional fields.
//
// The bytes are standard FlatBuffers: the generated accessors and TableReader read them unchanged
// (test/flat-writer.test.ts reads every table back through both; flatc cannot print union vectors).
//
// Like the Builder, it writes downwards from the end of its buffer, so everything a table points at
// (strings, vectors, other tables) is written before the table: FlatBuffers offsets only point forward.
// Positions handed out are offsets from the end, which stay valid when the buffer grows.

import { assert } from '../core/assert.js';

const TWO_POW_32 = 4294967296;
/** Everything is kept 4-byte aligned; tables with 8-byte fields pad to 8 (FlatBuffers minimum alignment). */
const ROOT_ALIGN = 8;
/** Optional fields per layout are tracked with a bit mask; more than this is a schema we did not expect. */
const OPTIONAL_FIELDS_MAX = 8;
/** Growing a buffer beyond this is a runaway batch, not a legitimate one (lengths are uint32 on the wire). */
const BUFFER_BYTES_MAX = 1 << 30;

export type FieldWidth = 1 | 2 | 4 | 8;

export interface FieldSpec {
  /** Declaration index in the schema (vtable slot 4 + 2 x index). */
  index: number;
  width: FieldWidth;
  /** Written only when the caller says so (strings that are absent rather than empty). */
  optional?: boolean;
}

/**
 * Where each field of one schema table sits. Body, from the table's start: the soffset to its vtable, then
 * 8-byte, 4-byte, 2-byte and 1-byte fields, so that each is naturally aligned when the 8-byte block is.
 */
export class TableLayout {
  /** Field index -> byte position in the body (0 = not in this layout). */
  readonly position: Uint16Array;
  readonly bodyBytes: number;
  readonly hasWide: boolean;
  /** Field index -> bit in the optional-presence mask, or -1 when always present. */
  private readonly optionalBit: Int8Array;
  /** This layout's first slot in a writer's vtable cache (one slot per presence mask, all layouts numbered). */
  readonly cacheBase: number;
  /** Presence masks run from 0 to maskCount - 1. */
  readonly maskCount: number;

  constructor(readonly name: string, readonly fieldCount: number, fields: readonly FieldSpec[]) {
    this.position = new Uint16Array(fieldCount);
    this.optionalBit = new Int8Array(fieldCount).fill(-1);
    let at = 4;
    for (const width of [8, 4, 2, 1] as const) {
      for (const field of fields) {
        if (field.width !== width) continue;
        assert(field.index >= 0 && field.index < fieldCount, `${name}: field ${field.index} outside the table`);
        assert(this.position[field.index] === 0, `${name}: field ${field.index} laid out twice`);
        this.position[field.index] = at;
        at += width;
      }
    }
    this.bodyBytes = (at + 3) & ~3;
    this.hasWide = fields.some((f) => f.width === 8);
    let bits = 0;
    for (const field of fields) if (field.optional === true) this.optionalBit[field.index] = bits++;
    assert(bits <= OPTIONAL_FIELDS_MAX, `${name}: too many optional fields`);
    this.maskCount = 1 << bits;
    this.cacheBase = cacheSlotsTotal;
    cacheSlotsTotal += this.maskCount;
  }

  /** The presence-mask bit of an optional field. */
  bit(index: number): number {
    const bit = this.optionalBit[index];
    assert(bit >= 0, `${this.name}: field ${index} is not optional`);
    return 1 << bit;
  }

  /** Whether field `index` is in the table under presence mask `mask`. */
  present(index: number, mask: number): boolean {
    if (this.position[index] === 0) return false;
    const bit = this.optionalBit[index];
    return bit < 0 || (mask & (1 << bit)) !== 0;
  }
}

/** Vtable-cache slots handed out to layouts so far (layouts are module constants: a handful in all). */
let cacheSlotsTotal = 0;

export class FlatWriter {
  private bytes: Uint8Array;
  private view: DataView;
  /** Absolute position of the lowest byte in use; the data is bytes[head, bytes.length). */
  private head: number;
  /** Distinguishes batches so that cached vtables of an earlier batch are never pointed at. */
  private batch = 1;
  /** Per layout and presence mask: offset (from the end) of the vtable written in batch vtableBatch[slot]. */
  private vtableAt = new Int32Array(0);
  private vtableBatch = new Int32Array(0);
  /** Absolute position of the table being written, between beginTable and endTable. */
  private table = -1;

  constructor(initialBytes = 1 << 16) {
    assert(initialBytes >= 64 && initialBytes <= BUFFER_BYTES_MAX, 'writer buffer size out of range');
    this.bytes = new Uint8Array(initialBytes);
    this.view = new DataView(this.bytes.buffer);
    this.head = initialBytes;
  }

  clear(): void {
    this.head = this.bytes.length;
    this.batch += 1;
    this.table = -1;
  }

  /** Offset from the end of what has been written so far: the handle of the last object written. */
  offset(): number {
    return this.bytes.length - this.head;
  }

  // ---- strings and vectors ------------------------------------------------------------------------------

  /** A string field's target. Identifiers are ASCII and copied by char code; anything else goes through UTF-8. */
  string(text: string): number {
    const length = text.length;
    for (let i = 0; i < length; i++) {
      if (text.charCodeAt(i) >= 0x80) return this.utf8String(text);
    }
    const start = this.reserveBytes(length, true);
    const bytes = this.bytes;
    this.view.setUint32(start, length, true);
    for (let i = 0; i < length; i++) bytes[start + 4 + i] = text.charCodeAt(i);
    return this.offset();
  }

  /** "<major>.<minor>" of two non-negative safe integers, written without building the string. */
  dottedId(major: number, minor: number): number {
    assert(Number.isSafeInteger(major) && major >= 0 && Number.isSafeInteger(minor) && minor >= 0, 'dotted id parts');
    const length = decimalDigits(major) + 1 + decimalDigits(minor);
    const start = this.reserveBytes(length, true);
    const bytes = this.bytes;
    this.view.setUint32(start, length, true);
    let at = start + 4 + length - 1;
    let rest = minor;
    do {
      bytes[at--] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
    bytes[at--] = 46;
    rest = major;
    do {
      bytes[at--] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
    assert(at === start + 3, 'dotted id length');
    return this.offset();
  }

  /** A vector of the first `count` offsets (tables written earlier). */
  offsetVector(offsets: readonly number[], count: number): number {
    assert(count >= 0 && count <= offsets.length, 'offset vector count');
    const start = this.reserve(4 + 4 * count);
    this.view.setUint32(start, count, true);
    for (let i = 0; i < count; i++) this.setOffset(start + 4 + 4 * i, offsets[i]);
    return this.offset();
  }

  /** A vector of the first `count` bytes (a union vector's type half). */
  byteVector(values: readonly number[], count: number): number {
    assert(count >= 0 && count <= values.length, 'byte vector count');
    const start = this.reserveBytes(count, false);
    this.view.setUint32(start, count, true);
    for (let i = 0; i < count; i++) this.bytes[start + 4 + i] = values[i];
    return this.offset();
  }

  /**
   * A [ubyte] vector holding another finished FlatBuffer (a nested_flatbuffer field), copied in. Its first
   * byte is placed 8-aligned in the finished buffer, so that the nested buffer's own 8-byte fields stay
   * aligned for readers that care (finish() aligns the whole buffer to 8).
   */
  nestedBuffer(source: Uint8Array): number {
    const size = 4 + ((source.length + 3) & ~3);
    // The data starts 4 bytes into the reservation: its offset from the end is offset() + size - 4.
    if (((this.offset() + size - 4) & 7) !== 0) this.pad(4);
    const start = this.reserveBytes(source.length, false);
    this.view.setUint32(start, source.length, true);
    this.bytes.set(source, start + 4);
    return this.offset();
  }

  // ---- tables --------------------------------------------------------------------------------------------

  /** Reserves a table's body; fields are then set by index until endTable. Zeroed, so an unset field reads 0. */
  beginTable(layout: TableLayout): void {
    assert(this.table < 0, 'beginTable inside a table');
    // The 8-byte block sits 4 bytes into the body; pad below the previous object so that it lands aligned.
    if (layout.hasWide && ((this.offset() + layout.bodyBytes - 4) & 7) !== 0) this.pad(4);
    this.table = this.reserve(layout.bodyBytes);
    this.bytes.fill(0, this.table, this.table + layout.bodyBytes);
  }

  // Unsigned fields refuse what they cannot hold instead of wrapping it (the stores would wrap silently).
  u8(layout: TableLayout, index: number, value: number): void {
    if ((value & 0xFF) !== value) throw new Error(`invariant: ${layout.name} field ${index}: ${value} is not a uint8`);
    this.bytes[this.fieldAt(layout, index)] = value;
  }

  u16(layout: TableLayout, index: number, value: number): void {
    if ((value & 0xFFFF) !== value) throw new Error(`invariant: ${layout.name} field ${index}: ${value} is not a uint16`);
    this.view.setUint16(this.fieldAt(layout, index), value, true);
  }

  u32(layout: TableLayout, index: number, value: number): void {
    if ((value >>> 0) !== value) throw new Error(`invariant: ${layout.name} field ${index}: ${value} is not a uint32`);
    this.view.setUint32(this.fieldAt(layout, index), value, true);
  }

  /** A 64-bit integer field from a safe-integer number (no bigint on the hot path). */
  i64(layout: TableLayout, index: number, value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`invariant: ${layout.name} field ${index}: ${value} is not a safe integer`);
    const at = this.fieldAt(layout, index);
    const lo = value >>> 0;
    this.view.setUint32(at, lo, true);
    this.view.setInt32(at + 4, (value - lo) / TWO_POW_32, true);
  }

  /** An offset field pointing at something written earlier (string, vector, table). */
  ref(layout: TableLayout, index: number, target: number): void {
    this.setOffset(this.fieldAt(layout, index), target);
  }

  /** Ends the table with the vtable for `mask` (optional fields present), reusing this batch's copy. */
  endTable(layout: TableLayout, mask: number): number {
    assert(this.table >= 0, 'endTable outside a table');
    assert(mask >= 0 && mask < layout.maskCount, 'presence mask outside its layout');
    const tableOffset = this.bytes.length - this.table;
    const slot = layout.cacheBase + mask;
    if (slot >= this.vtableBatch.length) this.growCache();
    let vtableOffset: number;
    if (this.vtableBatch[slot] === this.batch) {
      vtableOffset = this.vtableAt[slot];
    } else {
      vtableOffset = this.writeVtable(layout, mask);
      this.vtableAt[slot] = vtableOffset;
      this.vtableBatch[slot] = this.batch;
    }
    // soffset: vtable = table - soffset. The buffer may have grown while writing the vtable; go by offsets.
    this.view.setInt32(this.bytes.length - tableOffset, vtableOffset - tableOffset, true);
    this.table = -1;
    return tableOffset;
  }

  /**
   * Writes the root offset (and the 4-character file identifier after it, if any) and returns a copy of
   * the finished buffer (the writer's memory is reused).
   */
  finish(root: number, identifier = ''): Uint8Array {
    return this.finishView(root, identifier).slice();
  }

  /**
   * finish() without the copy: a view of the writer's own memory, valid until its next write. For a caller
   * that copies the bytes at once anyway (CoreHost packs each frame into its batch): allocating a fresh
   * ArrayBuffer per frame cost ~0.7 us on the gateway's thread.
   */
  finishView(root: number, identifier = ''): Uint8Array {
    assert(this.table < 0, 'finish inside a table');
    assert(identifier.length === 0 || identifier.length === 4, 'a file identifier has 4 characters');
    const prefix = 4 + identifier.length;
    const misalignment = (this.offset() + prefix) & (ROOT_ALIGN - 1);
    if (misalignment !== 0) this.pad(ROOT_ALIGN - misalignment);
    if (identifier.length > 0) {
      const at = this.reserve(4);
      for (let i = 0; i < 4; i++) this.bytes[at + i] = identifier.charCodeAt(i);
    }
    const at = this.reserve(4);
    this.setOffset(at, root);
    return this.bytes.subarray(this.head);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  private fieldAt(layout: TableLayout, index: number): number {
    const position = layout.position[index];
    if (this.table < 0 || position === 0) throw new Error(`invariant: ${layout.name}: field ${index} set outside its table`);
    return this.table + position;
  }

  /** Stores at absolute `at` the uoffset of `target` (an offset from the end), which must lie above it. */
  private setOffset(at: number, target: number): void {
    const targetAt = this.bytes.length - target;
    assert(target > 0 && targetAt > at, 'offsets point forward');
    this.view.setUint32(at, targetAt - at, true);
  }

  /** Layouts may be created after the writer: the cache covers every slot handed out so far. */
  private growCache(): void {
    const at = new Int32Array(cacheSlotsTotal);
    const batch = new Int32Array(cacheSlotsTotal);
    at.set(this.vtableAt);
    batch.set(this.vtableBatch);
    this.vtableAt = at;
    this.vtableBatch = batch;
  }

  private writeVtable(layout: TableLayout, mask: number): number {
    const vtableBytes = 4 + 2 * layout.fieldCount;
    const start = this.reserve((vtableBytes + 3) & ~3);
    const view = this.view;
    if ((vtableBytes & 3) !== 0) view.setUint16(start + vtableBytes, 0, true);
    view.setUint16(start, vtableBytes, true);
    view.setUint16(start + 2, layout.bodyBytes, true);
    for (let index = 0; index < layout.fieldCount; index++) {
      view.setUint16(start + 4 + 2 * index, layout.present(index, mask) ? layout.position[index] : 0, true);
    }
    return this.offset();
  }

  /**
   * Reserves a length word plus `length` bytes (and a NUL) padded to 4; the rest is zeroed (NUL included),
   * because the buffer is reused and old bytes would otherwise leak into the output.
   */
  private reserveBytes(length: number, nulTerminated: boolean): number {
    const size = 4 + ((length + (nulTerminated ? 1 : 0) + 3) & ~3);
    const start = this.reserve(size);
    for (let at = start + 4 + length; at < start + size; at++) this.bytes[at] = 0;
    return start;
  }

  private pad(size: number): void {
    const start = this.reserve(size);
    this.bytes.fill(0, start, start + size);
  }

  /** Moves the head down by `size` bytes (a multiple of 4), growing the buffer when needed; returns the new head. */
  private reserve(size: number): number {
    assert((size & 3) === 0 && size > 0, 'reservations keep 4-byte alignment');
    if (this.head < size) this.grow(size);
    this.head -= size;
    return this.head;
  }

  private grow(needed: number): void {
    const used = this.bytes.length - this.head;
    let capacity = this.bytes.length * 2;
    while (capacity - used < needed) capacity *= 2;
    assert(capacity <= BUFFER_BYTES_MAX, 'result buffer beyond its maximum size');
    const bytes = new Uint8Array(capacity);
    bytes.set(this.bytes.subarray(this.head), capacity - used);
    if (this.table >= 0) this.table += capacity - this.bytes.length;
    this.head = capacity - used;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  private utf8String(text: string): number {
    const encoded = UTF8.encode(text);
    const start = this.reserveBytes(encoded.length, true);
    this.view.setUint32(start, encoded.length, true);
    this.bytes.set(encoded, start + 4);
    return this.offset();
  }
}

const UTF8 = new TextEncoder();

function decimalDigits(value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
  return digits;
}
