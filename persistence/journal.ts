// The journal is the system of record: a write-ahead log of every input command (opaque bytes, keyed by a
// contiguous sequence number) plus a store of state snapshots, both in one LMDB environment so that a single
// fsync makes both durable and LMDB's atomic transactions rule out torn entries.
//
// Durability model (see persistence/durability.md): lmdb-js runs with overlappingSync, so a write
// transaction becomes *visible* before it is fsync'd. An entry counts as durable only once the env's
// `flushed` promise has resolved after the entry's own commit; lastSeq() and flush() follow that rule, never
// visibility.
//
// Why many async `put`s + one awaited `flushed` per group commit, not transactionSync/batch (measured on this
// machine, 256 entries of 150 B, lmdb-js 3.5.6, see the report in durability.md):
//   - put x N then await flushed: ~0.2 us/entry on the main thread (append() of 256 entries ~50 us); the
//     B-tree work and the fsync run on lmdb-js's write thread, so the core keeps going while the group
//     commit is in flight (pipelined: ~1M entries/s, flush p50 ~1.6 ms; one batch at a time: ~330k
//     entries/s, flush p50 ~0.6 ms).
//   - transactionSync: the commit AND the fsync happen on the calling thread (~0.7-0.9 ms per 256 entries,
//     2.7-3.4 us/entry of main-thread time), even with the NO_SYNC_FLUSH flag, because the overlapping sync
//     is performed inside mdb_txn_commit by whoever commits.
//   - batch(): same write path as put but no faster here, and it nests an extra conditional instruction.
//   - put with { append: true } (MDB_APPEND): slower here, and a failed append resolves `false` while the
//     rest of the transaction commits, i.e. a silent gap unless every single promise is checked.

import { existsSync, mkdirSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import type { Database, DatabaseOptions, Key, RootDatabase, RootDatabaseOptionsWithPath } from 'lmdb';

export interface JournalOptions {
  /** Directory holding data.mdb/lock.mdb; created if missing (writer only). */
  path: string;
  /** CLI/inspect tools and reader processes. */
  readOnly?: boolean;
  /** Virtual address space reserved for the map; default MAP_SIZE_BYTES_DEFAULT. */
  map_size_bytes?: number;
}

export interface JournalEntry {
  seq: number;
  bytes: Uint8Array;
}

export interface SnapshotRecord {
  seq: number;
  state_hash: string;
  bytes: Uint8Array;
  time_us: number;
}

/** A stored snapshot whose payload cannot be read back whole (recovery then uses an older one). */
export class SnapshotUnreadableError extends Error {
  constructor(readonly seq: number, message: string) {
    super(message);
  }
}

export interface SnapshotInfo {
  seq: number;
  state_hash: string;
  time_us: number;
  size_bytes: number;
}

/** 64 GiB of address space: virtual only (no writemap, the file grows as data is written). */
export const MAP_SIZE_BYTES_DEFAULT = 64 * 1024 ** 3;
/** Keys are 8-byte big-endian integers, but JS numbers are exact only up to 2^53 - 1. */
export const SEQ_MAX = Number.MAX_SAFE_INTEGER;
/** A single append() call; bounds the validation pass and the lmdb-js instruction queue per call. */
export const APPEND_ENTRIES_MAX = 65_536;
/** Appended but not yet known durable. Past this the caller is not calling flush(): fail loudly. */
export const UNFLUSHED_ENTRIES_MAX = 1_048_576;
/** One command. Commands are small; a megabyte means a bug upstream, not a big order. */
export const ENTRY_BYTES_MAX = 1024 * 1024;
/** One snapshot payload (LMDB overflow pages; lmdb-js passes value sizes as uint32). */
export const SNAPSHOT_BYTES_MAX = 1024 ** 3;
export const STATE_HASH_BYTES_MAX = 256;
/** flush()/putSnapshot() calls waiting at once; each holds one small closure. */
export const DURABILITY_WAITERS_MAX = 65_536;

const JOURNAL_DB_NAME = 'journal';
const SNAPSHOTS_DB_NAME = 'snapshots';
const WRITER_LOCK_FILE = 'writer.lock';
const DATA_FILE = 'data.mdb';

// Every process (core, CLI, readers) must open the env with identical flags: overlappingSync and map size
// change how the meta pages are picked and synced. Never noSync/useWritemap/mapAsync/noMetaSync.
// maxDbs is per handle (not persisted) but kept equal anyway.
const ENV_MAX_DBS = 4;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`journal: ${message}`);
}

function assertSeq(seq: number, name: string): void {
  assert(Number.isSafeInteger(seq), `${name} must be a safe integer, got ${String(seq)}`);
  assert(seq >= 1 && seq <= SEQ_MAX, `${name} must be in [1, ${SEQ_MAX}], got ${seq}`);
}

// ---------------------------------------------------------------------------------------------------------
// Key encoding: 8-byte big-endian unsigned integer.
// - uint32 keys (MDB_INTEGERKEY) would cap seq at 2^32-1, i.e. ~1.7 h at 700k commands/s: too small for a
//   system of record.
// - ordered-binary numbers work but are a float-derived variable-length format that only lmdb-js reads.
// - 8-byte big-endian sorts correctly under LMDB's default memcmp order, is fixed width, trivially decoded by
//   any other tool (mdb_dump, Go, C), and measured as fast as uint32 here.
// The encoder throws on anything that is not a seq so that a stray default key (lmdb-js uses a Buffer [5]
// as the implicit start of ranges) fails loudly instead of silently scanning nothing.

const SEQ_KEY_BYTES = 8;
const TWO_POW_32 = 4_294_967_296;

// Hot path (once per put): the checks are written as `if` so no message string is built on success.
function writeSeqKey(key: unknown, target: Uint8Array, start: number): number {
  if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0) throw new Error(`journal: invalid key ${String(key)}`);
  const hi = Math.floor(key / TWO_POW_32);
  const lo = key >>> 0;
  target[start] = hi >>> 24;
  target[start + 1] = hi >>> 16;
  target[start + 2] = hi >>> 8;
  target[start + 3] = hi;
  target[start + 4] = lo >>> 24;
  target[start + 5] = lo >>> 16;
  target[start + 6] = lo >>> 8;
  target[start + 7] = lo;
  return start + SEQ_KEY_BYTES;
}

function readSeqKey(source: Uint8Array, start: number, end: number): number {
  if (end - start !== SEQ_KEY_BYTES) throw new Error(`journal: stored key has ${end - start} bytes, expected ${SEQ_KEY_BYTES}`);
  const hi = ((source[start] << 24) | (source[start + 1] << 16) | (source[start + 2] << 8) | source[start + 3]) >>> 0;
  const lo = ((source[start + 4] << 24) | (source[start + 5] << 16) | (source[start + 6] << 8) | source[start + 7]) >>> 0;
  return hi * TWO_POW_32 + lo;
}

// lmdb-js accepts `keyEncoder` on openDB but its typings only list it on the root options.
interface SeqDbOptions extends DatabaseOptions {
  name: string;
  keyEncoder: { writeKey: typeof writeSeqKey; readKey: typeof readSeqKey };
}

function seqDbOptions(name: string): SeqDbOptions {
  return { name, encoding: 'binary', keyEncoder: { writeKey: writeSeqKey, readKey: readSeqKey } };
}

/**
 * A value "decoder" that hands out a view of lmdb-js's shared read buffer instead of a copy. lmdb-js gives a
 * decoder that buffer itself (its `decoderCopies` contract: a decoder copies what it keeps), so each value
 * read costs no allocation of a backing store: replay copied every entry into a Buffer of its own, a fifth
 * of the time a replay took. Only for the transient reads of Journal.forEachTransient.
 */
const TRANSIENT_VIEW_ENCODER = {
  encode(): never {
    throw new Error('invariant: the transient journal handle is for reads only');
  },
  decode(bytes: Uint8Array, size: number): Uint8Array {
    return bytes.subarray(0, size);
  },
};

function transientDbOptions(name: string): SeqDbOptions {
  return { ...seqDbOptions(name), encoder: TRANSIENT_VIEW_ENCODER } as SeqDbOptions;
}

function envOptions(path: string, readOnly: boolean, mapSizeBytes: number): RootDatabaseOptionsWithPath {
  return {
    path,
    readOnly,
    mapSize: mapSizeBytes,
    maxDbs: ENV_MAX_DBS,
    // Explicit even though it is the Linux default for writers: lmdb-js turns it OFF for readOnly opens,
    // and the same flags must be used everywhere.
    overlappingSync: true,
    noSync: false,
    noMetaSync: false,
    useWritemap: false,
    remapChunks: false,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots. A header record per snapshot in `snapshots` (key: seq), little-endian:
//   0 u32 magic | 4 u16 version | 6 u16 hash_size_bytes | 8 f64 seq | 16 f64 time_us | 24 u32 payload_size_bytes
//   version 1: 28 state_hash (utf-8) | payload                        (written until 2026-11-25; still read)
//   version 2: 28 u32 chunk_count | 32 u32 chunk_bytes | 36 state_hash (utf-8)
// Version 2 keeps the payload in `snapshot_chunks` (key: seq u64 BE | chunk index u32 BE), one LMDB
// transaction per chunk, and writes the header last: a snapshot exists once its header does. One big value
// was one big transaction, and every commit queued behind it waited for its write and fsync. Measured with
// 64-entry batches committing throughout a 170 MB snapshot (the book at 1,000,000 orders): slowest batch
// 807 ms as one value, 126 ms in 4 MiB chunks, 95 ms in 1 MiB chunks (p50 0.7 ms in all three).
// Chunks without a header (a writer killed mid-snapshot) are deleted by keepNewestSnapshots.

const SNAPSHOT_MAGIC = 0x4f4d_5353; // "OMSS"
const SNAPSHOT_VERSION_INLINE = 1;
const SNAPSHOT_VERSION_CHUNKED = 2;
const SNAPSHOT_HEADER_BYTES = 28;
const SNAPSHOT_CHUNKED_HEADER_BYTES = 36;
/** Payload bytes per chunk, i.e. per LMDB transaction of a snapshot write. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
const SNAPSHOT_CHUNKS_DB_NAME = 'snapshot_chunks';
const CHUNK_KEY_BYTES = 12;

function chunkKey(seq: number, index: number): Buffer {
  const key = Buffer.allocUnsafe(CHUNK_KEY_BYTES);
  writeSeqKey(seq, key, 0);
  key.writeUInt32BE(index, SEQ_KEY_BYTES);
  return key;
}

function chunkKeySeq(key: Uint8Array): number {
  assert(key.length === CHUNK_KEY_BYTES, `snapshot chunk key has ${key.length} bytes, expected ${CHUNK_KEY_BYTES}`);
  return readSeqKey(key, 0, SEQ_KEY_BYTES);
}

function encodeChunkedHeader(record: SnapshotRecord, chunkCount: number): Uint8Array {
  const hash = Buffer.from(record.state_hash, 'utf8');
  const out = Buffer.alloc(SNAPSHOT_CHUNKED_HEADER_BYTES + hash.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint16(4, SNAPSHOT_VERSION_CHUNKED, true);
  view.setUint16(6, hash.length, true);
  view.setFloat64(8, record.seq, true);
  view.setFloat64(16, record.time_us, true);
  view.setUint32(24, record.bytes.length, true);
  view.setUint32(28, chunkCount, true);
  view.setUint32(32, SNAPSHOT_CHUNK_BYTES, true);
  out.set(hash, SNAPSHOT_CHUNKED_HEADER_BYTES);
  return out;
}

interface SnapshotHeader {
  info: SnapshotInfo;
  /** Version 1: where the payload starts in the header record. */
  payload_offset: number;
  /** Version 2: the payload is in chunk_count chunks of chunk_bytes (the last one shorter). */
  chunk_count: number;
  chunk_bytes: number;
}

function decodeSnapshotHeader(key: number, value: Uint8Array): SnapshotHeader {
  assert(value.length >= SNAPSHOT_HEADER_BYTES, `snapshot ${key}: record truncated (${value.length} bytes)`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  assert(view.getUint32(0, true) === SNAPSHOT_MAGIC, `snapshot ${key}: bad magic`);
  const version = view.getUint16(4, true);
  assert(version === SNAPSHOT_VERSION_INLINE || version === SNAPSHOT_VERSION_CHUNKED, `snapshot ${key}: unknown version ${version}`);
  const hashBytes = view.getUint16(6, true);
  const seq = view.getFloat64(8, true);
  const payloadBytes = view.getUint32(24, true);
  assert(seq === key, `snapshot ${key}: record says seq ${seq}`);
  const hashOffset = version === SNAPSHOT_VERSION_INLINE ? SNAPSHOT_HEADER_BYTES : SNAPSHOT_CHUNKED_HEADER_BYTES;
  const hash = (): string => Buffer.from(value.buffer, value.byteOffset + hashOffset, hashBytes).toString('utf8');
  const info = (): SnapshotInfo => ({ seq, state_hash: hash(), time_us: view.getFloat64(16, true), size_bytes: payloadBytes });
  if (version === SNAPSHOT_VERSION_INLINE) {
    assert(value.length === hashOffset + hashBytes + payloadBytes, `snapshot ${key}: size mismatch, record corrupt`);
    return { info: info(), payload_offset: hashOffset + hashBytes, chunk_count: 0, chunk_bytes: 0 };
  }
  assert(value.length === hashOffset + hashBytes, `snapshot ${key}: size mismatch, record corrupt`);
  const chunkCount = view.getUint32(28, true);
  const chunkBytes = view.getUint32(32, true);
  assert(chunkBytes > 0 && chunkCount === Math.ceil(payloadBytes / chunkBytes), `snapshot ${key}: ${chunkCount} chunks of ${chunkBytes} bytes cannot hold ${payloadBytes}`);
  return { info: info(), payload_offset: 0, chunk_count: chunkCount, chunk_bytes: chunkBytes };
}

function assertSnapshotRecord(record: SnapshotRecord): void {
  assertSeq(record.seq, 'snapshot seq');
  assert(record.bytes instanceof Uint8Array, 'snapshot bytes must be a Uint8Array');
  assert(record.bytes.length <= SNAPSHOT_BYTES_MAX, `snapshot of ${record.bytes.length} bytes exceeds ${SNAPSHOT_BYTES_MAX}`);
  assert(typeof record.state_hash === 'string' && record.state_hash.length > 0, 'snapshot state_hash must be non-empty');
  const hashBytes = Buffer.byteLength(record.state_hash, 'utf8');
  assert(hashBytes <= STATE_HASH_BYTES_MAX, `state_hash of ${hashBytes} bytes exceeds ${STATE_HASH_BYTES_MAX}`);
  assert(Number.isSafeInteger(record.time_us) && record.time_us >= 0, `snapshot time_us must be a non-negative integer`);
}

// ---------------------------------------------------------------------------------------------------------
// Writer lock. LMDB serialises write transactions but would happily let two processes both append "seq N":
// the second put overwrites the first, i.e. an acknowledged command vanishes. A lock file naming the holder
// makes a second writer (another process, or another thread of this one) fail at open; one left by a dead
// (e.g. SIGKILLed) process is stale and is taken over. The holder is "pid + process start time" (Linux
// /proc), so a recycled pid, or pid 1 in a restarted container, is not mistaken for the holder. The
// check-and-take runs inside an LMDB write transaction, whose mutex is shared by every process opening the
// env, so two processes can never both see "stale" and both take the lock.

interface LockHolder {
  pid: number;
  /** Process start time in clock ticks since boot; '-' when /proc is unavailable. */
  start: string;
}

function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); counting starts after "(comm)", which may itself contain spaces.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start ?? '-';
  } catch {
    return '-';
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // Exists, owned by another user.
  }
}

function holderIsAlive(holder: LockHolder): boolean {
  if (!pidExists(holder.pid)) return false;
  const start = processStart(holder.pid);
  if (start === '-' || holder.start === '-') return true; // Cannot tell: keep the lock, fail loudly.
  return start === holder.start;
}

function readLockHolder(lockPath: string): LockHolder {
  const text = readFileSync(lockPath, 'utf8');
  const [pidText, start] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  const valid = Number.isSafeInteger(pid) && pid > 0 && start !== undefined && start.length > 0;
  assert(valid, `unreadable writer lock ${lockPath} (${JSON.stringify(text)}); remove it if no writer runs`);
  return { pid, start };
}

/** Must run inside an LMDB write transaction (see above). */
function acquireWriterLock(dir: string): string {
  const lockPath = join(dir, WRITER_LOCK_FILE);
  if (existsSync(lockPath)) {
    const holder = readLockHolder(lockPath);
    const live = holderIsAlive(holder);
    assert(!(live && holder.pid === process.pid), `${dir} is already open for writing in this process`);
    assert(!live, `${dir} is already open for writing by pid ${holder.pid}`);
    unlinkSync(lockPath);
  }
  writeFileSync(lockPath, `${process.pid} ${processStart(process.pid)}\n`, { flag: 'wx' });
  return lockPath;
}

function releaseWriterLock(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release. The lock is advisory; LMDB data is unaffected.
  }
}

// ---------------------------------------------------------------------------------------------------------

interface DurabilityWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
  /** Settles (never rejects) with the waiter: close() drains these. */
  settled: Promise<void>;
}

type BinaryDb = Database<Uint8Array, number>;

export class Journal {
  private readonly root: RootDatabase<Uint8Array, number>;
  private readonly journal: BinaryDb;
  /** The same db through TRANSIENT_VIEW_ENCODER: values are views valid until the next read (forEachTransient). */
  private readonly journalViews: BinaryDb;
  private readonly snapshots: BinaryDb;
  /**
   * Payload chunks of version-2 snapshots (see "Snapshots" above). null only while a read-only open meets a
   * journal written before chunks existed (lmdb-js gives no handle for a missing named db when read-only);
   * readers try again when they need it (chunksDb), since a newer writer may have created it since.
   */
  private chunks: Database<Uint8Array, Buffer> | null;
  /** A snapshot write in progress (its chunks are committed one transaction at a time), settled or not. */
  private snapshotWrite: Promise<void> | null = null;
  private readonly readOnly: boolean;
  private readonly lockPath: string | null;
  private durableSeq: number;
  private appendedSeq: number;
  /** Commit promise of the LMDB transaction holding the newest appended entry (shared by its whole txn). */
  private commitTail: Promise<boolean> | null = null;
  /** Commit promise of the newest put of either db; waiting on it covers every earlier put. */
  private newestCommit: Promise<boolean> | null = null;
  private readonly waiters = new Set<DurabilityWaiter>();
  private failure: Error | null = null;
  /** Set when close() starts: no appends or snapshots may slip in behind close()'s final flush. */
  private closing = false;
  private closed = false;

  private constructor(root: RootDatabase<Uint8Array, number>, readOnly: boolean, lockPath: string | null) {
    this.root = root;
    this.readOnly = readOnly;
    this.lockPath = lockPath;
    this.journal = root.openDB<Uint8Array, number>(seqDbOptions(JOURNAL_DB_NAME));
    this.journalViews = root.openDB<Uint8Array, number>(transientDbOptions(JOURNAL_DB_NAME));
    this.snapshots = root.openDB<Uint8Array, number>(seqDbOptions(SNAPSHOTS_DB_NAME));
    this.chunks = openChunksDb(root);
    assert(this.chunks !== null || readOnly, 'cannot open the snapshot chunks db');
    this.assertContiguous();
    if (!readOnly) this.syncRecoveredTail();
    this.durableSeq = this.storedLastSeq();
    this.appendedSeq = this.durableSeq;
  }

  static open(options: JournalOptions): Journal {
    assert(typeof options.path === 'string' && options.path.length > 0, 'path is required');
    const readOnly = options.readOnly === true;
    const mapSizeBytes = options.map_size_bytes ?? MAP_SIZE_BYTES_DEFAULT;
    assert(Number.isSafeInteger(mapSizeBytes) && mapSizeBytes >= 1024 * 1024, `map_size_bytes too small: ${mapSizeBytes}`);
    if (readOnly) {
      assert(existsSync(join(options.path, DATA_FILE)), `no journal at ${options.path} (read-only open)`);
    } else {
      mkdirSync(options.path, { recursive: true });
    }
    const dir = realpathSync(options.path);
    const root = openLmdb<Uint8Array, number>(envOptions(dir, readOnly, mapSizeBytes));
    let lockPath: string | null = null;
    try {
      if (!readOnly) lockPath = root.transactionSync(() => acquireWriterLock(dir));
      return new Journal(root, readOnly, lockPath);
    } catch (error) {
      if (lockPath !== null) releaseWriterLock(lockPath);
      void root.close().catch(noop); // The open error is the one worth reporting.
      throw error;
    }
  }

  /** Highest seq durably stored (0 when empty). Read-only: highest seq committed by the writer. */
  lastSeq(): number {
    this.assertOpen();
    if (this.readOnly) return this.storedLastSeq();
    return this.durableSeq;
  }

  lastAppendedSeq(): number {
    this.assertOpen();
    if (this.readOnly) return this.storedLastSeq();
    return this.appendedSeq;
  }

  /**
   * Queue entries into the current group commit. All-or-nothing: every entry is validated before the first
   * put, so a rejected call leaves nothing queued. Zero-copy: lmdb-js keeps a reference to `bytes` and its
   * write thread reads them during the commit, so the caller must never mutate them afterwards.
   */
  append(entries: readonly JournalEntry[]): void {
    this.assertWritable();
    assert(entries.length <= APPEND_ENTRIES_MAX, `append of ${entries.length} entries exceeds ${APPEND_ENTRIES_MAX}`);
    if (entries.length === 0) return;
    const unflushed = this.appendedSeq - this.durableSeq + entries.length;
    assert(unflushed <= UNFLUSHED_ENTRIES_MAX, `${unflushed} entries would be unflushed (max ${UNFLUSHED_ENTRIES_MAX}): call flush()`);
    this.assertAppendable(entries);
    try {
      this.queuePuts(entries);
    } catch (error) {
      // Part of the batch may be queued already; the journal can no longer vouch for contiguity.
      this.fail(error);
      throw this.failure;
    }
  }

  /** Resolves when everything appended before the call is fsync'd. Rejects forever after a write failure. */
  flush(): Promise<void> {
    // A write failure is operational, so it arrives as a rejection; misuse (closed, read-only) throws.
    if (this.failure !== null) return Promise.reject(this.failure);
    this.assertWritable();
    return this.flushAppended();
  }

  /** Entries fromSeq..toSeq (inclusive) in order, read lazily from one consistent LMDB snapshot. */
  read(fromSeq: number, toSeq?: number): IterableIterator<JournalEntry> {
    const { first, last } = this.readRange(fromSeq, toSeq);
    return this.iterate(first, last);
  }

  /**
   * Calls visit(seq, bytes) for entries fromSeq..toSeq (inclusive) in order, from one consistent LMDB
   * snapshot, and returns how many it visited. `bytes` is a view of lmdb-js's read buffer, valid only until
   * the next lmdb-js read on this thread (the next entry at the latest): for replay, which decodes each
   * entry at once. Anything kept must be copied (read() gives copies).
   */
  forEachTransient(fromSeq: number, toSeq: number, visit: (seq: number, bytes: Uint8Array) => void): number {
    const { first, last } = this.readRange(fromSeq, toSeq);
    if (first > last) return 0;
    let expected = first;
    for (const { key, value } of this.journalViews.getRange({ start: first, end: last, inclusiveEnd: true })) {
      checkNextEntry(key, expected, last);
      visit(key, value);
      expected++;
    }
    return expected - first;
  }

  /** The stored part of fromSeq..toSeq (toSeq defaults to the last durable seq), checked, on a fresh read view. */
  private readRange(fromSeq: number, toSeq: number | undefined): { first: number; last: number } {
    this.assertOpen();
    this.refreshReadView();
    assertSeq(fromSeq, 'fromSeq');
    if (toSeq !== undefined) assertSeq(toSeq, 'toSeq');
    return { first: Math.max(fromSeq, this.firstSeq()), last: toSeq ?? this.lastSeq() };
  }

  count(): number {
    this.assertOpen();
    this.refreshReadView();
    return entryCount(this.journal);
  }

  firstSeq(): number {
    this.assertOpen();
    this.refreshReadView();
    for (const key of this.journal.getKeys({ start: 0, limit: 1 })) return key;
    return 0;
  }

  /**
   * Durable when resolved. Idempotent for an identical (seq, state_hash); a different hash at the same seq
   * is a determinism failure and throws. The snapshot's seq must already be appended: its commit then
   * follows those entries' commits, so a durable snapshot implies durable entries up to it.
   */
  putSnapshot(record: SnapshotRecord): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.assertWritable();
    assertSnapshotRecord(record);
    assert(record.seq <= this.appendedSeq, `snapshot seq ${record.seq} is past the last appended seq ${this.appendedSeq}`);
    const existing = this.snapshotHeader(record.seq);
    if (existing !== undefined) {
      const same = existing.info.state_hash === record.state_hash;
      assert(same, `snapshot at seq ${record.seq} already stored with state_hash ${existing.info.state_hash}, got ${record.state_hash}`);
      // The earlier put may still be in flight: wait for the newest commit, which is at or after it.
      const newest = this.newestCommit;
      return newest === null ? Promise.resolve() : this.awaitDurable(newest, noop);
    }
    assert(this.snapshotWrite === null, 'one snapshot write at a time');
    // Cleared before the caller's continuation runs, so that it may prune or write the next one at once.
    const write = this.writeChunkedSnapshot(record).finally(() => { this.snapshotWrite = null; });
    this.snapshotWrite = write.then(noop, noop);
    return write;
  }

  /** Chunks first, one transaction each, then the header that makes the snapshot exist; durable when resolved. */
  private async writeChunkedSnapshot(record: SnapshotRecord): Promise<void> {
    const size = record.bytes.length;
    const chunkCount = Math.ceil(size / SNAPSHOT_CHUNK_BYTES);
    for (let i = 0; i < chunkCount; i++) {
      const start = i * SNAPSHOT_CHUNK_BYTES;
      // Awaited before the next chunk is queued, so each lands in its own transaction and the core's batches
      // commit in between. lmdb-js keeps a reference to the bytes until the commit: the caller must not reuse them.
      await this.putTracked(this.writableChunks(), chunkKey(record.seq, i), record.bytes.subarray(start, Math.min(start + SNAPSHOT_CHUNK_BYTES, size)));
      if (this.failure !== null) throw this.failure;
    }
    const commit = this.putTracked(this.snapshots, record.seq, encodeChunkedHeader(record, chunkCount));
    // Entries appended before this put sit in the same or an earlier LMDB txn, so they are durable too.
    const covered = this.appendedSeq;
    await this.awaitDurable(commit, () => this.advanceDurable(covered));
  }

  private putTracked<K extends Key>(db: Database<Uint8Array, K>, key: K, value: Uint8Array): Promise<boolean> {
    let commit: Promise<boolean>;
    try {
      commit = db.put(key, value);
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    this.watchCommit(commit);
    this.newestCommit = commit;
    return commit;
  }

  /** Version-2 snapshot chunks stored (all snapshots, and any left by an interrupted write): for inspect and tests. */
  snapshotChunkCount(): number {
    this.assertOpen();
    this.refreshReadView();
    const chunks = this.chunksDb();
    return chunks === null ? 0 : entryCount(chunks);
  }

  private chunksDb(): Database<Uint8Array, Buffer> | null {
    if (this.chunks === null) this.chunks = openChunksDb(this.root);
    return this.chunks;
  }

  private writableChunks(): Database<Uint8Array, Buffer> {
    assert(this.chunks !== null, 'invariant: a writer always has the snapshot chunks db');
    return this.chunks;
  }

  /**
   * Deletes every snapshot but the newest `count` (their pages return to LMDB for reuse); resolves with how
   * many went, once that is durable. Snapshots only shorten recovery, and each holds the whole book: kept
   * forever, a large book filled the disk with them (170 MB each at 1,000,000 orders).
   */
  keepNewestSnapshots(count: number): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.assertWritable();
    assert(Number.isSafeInteger(count) && count >= 1, `snapshots to keep must be a positive integer, got ${count}`);
    // A write in progress has chunks and no header yet: they would look like an interrupted write's.
    assert(this.snapshotWrite === null, 'snapshots pruned while one is being written');
    this.refreshReadView();
    const old: number[] = [];
    const kept = new Set<number>();
    // `end: 0` is explicit: without it lmdb-js would use its default boundary key, which our encoder rejects.
    for (const key of this.snapshots.getKeys({ start: SEQ_MAX, end: 0, reverse: true })) {
      if (kept.size < count) kept.add(key);
      else old.push(key);
    }
    const chunkKeys: Buffer[] = [];
    const chunks = this.writableChunks();
    for (const key of chunks.getKeys({ start: chunkKey(0, 0) })) if (!kept.has(chunkKeySeq(key))) chunkKeys.push(key);
    if (old.length === 0 && chunkKeys.length === 0) return Promise.resolve(0);
    let commit: Promise<boolean> = Promise.resolve(true);
    try {
      for (const key of old) commit = this.snapshots.remove(key);
      for (const key of chunkKeys) commit = chunks.remove(key);
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    this.watchCommit(commit);
    this.newestCommit = commit;
    return this.awaitDurable(commit, noop).then(() => old.length);
  }

  /** Newest snapshot with seq <= atOrBeforeSeq (default: newest of all). */
  latestSnapshot(atOrBeforeSeq?: number): SnapshotRecord | undefined {
    this.assertOpen();
    this.refreshReadView();
    const upper = atOrBeforeSeq ?? SEQ_MAX;
    assert(Number.isSafeInteger(upper) && upper >= 0, `atOrBeforeSeq must be a non-negative integer, got ${upper}`);
    // `end: 0` is explicit: without it lmdb-js would use its default boundary key, which our encoder rejects.
    for (const key of this.snapshots.getKeys({ start: upper, end: 0, reverse: true, limit: 1 })) {
      const value = this.snapshots.getBinary(key);
      assert(value !== undefined, `snapshot ${key} vanished between key scan and read`);
      const header = decodeSnapshotHeader(key, value);
      const bytes = header.chunk_bytes === 0 ? value.subarray(header.payload_offset) : this.readChunks(key, header);
      return { seq: key, state_hash: header.info.state_hash, time_us: header.info.time_us, bytes };
    }
    return undefined;
  }

  /** A chunked snapshot's payload, reassembled; throws SnapshotUnreadableError if a chunk is missing or short. */
  private readChunks(seq: number, header: SnapshotHeader): Uint8Array {
    const size = header.info.size_bytes;
    const chunks = this.chunksDb();
    if (chunks === null) throw new SnapshotUnreadableError(seq, `snapshot ${seq} is chunked but the journal has no chunks db`);
    const out = Buffer.allocUnsafe(size);
    let index = 0;
    let at = 0;
    for (const { key, value } of chunks.getRange({ start: chunkKey(seq, 0), end: chunkKey(seq, header.chunk_count) })) {
      const expected = Math.min(header.chunk_bytes, size - at);
      if (key.readUInt32BE(SEQ_KEY_BYTES) !== index || value.length !== expected) {
        throw new SnapshotUnreadableError(seq, `chunk ${index} of snapshot ${seq} is missing or has ${value.length} bytes, expected ${expected}`);
      }
      out.set(value, at);
      at += expected;
      index += 1;
    }
    if (index !== header.chunk_count || at !== size) throw new SnapshotUnreadableError(seq, `snapshot ${seq} has ${index} of ${header.chunk_count} chunks`);
    return out;
  }

  listSnapshots(): SnapshotInfo[] {
    this.assertOpen();
    this.refreshReadView();
    const out: SnapshotInfo[] = [];
    const total = entryCount(this.snapshots);
    for (const key of this.snapshots.getKeys({ start: 0 })) {
      assert(out.length < total, 'more snapshots than the stored count');
      const header = this.snapshotHeader(key);
      assert(header !== undefined, `snapshot ${key} vanished between key scan and read`);
      out.push(header.info);
    }
    return out;
  }

  /** Flushes what was appended and lets pending flushes settle (writer), then closes the env. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A snapshot being written finishes first (its chunks are queued one by one); its caller sees the outcome.
    if (this.snapshotWrite !== null) await this.snapshotWrite;
    const mustFlush = !this.readOnly && this.failure === null && this.appendedSeq > this.durableSeq;
    try {
      if (mustFlush) await this.flushAppended();
      // Bounded by DURABILITY_WAITERS_MAX; each settles on its flush or on fail().
      await Promise.all([...this.waiters].map((waiter) => waiter.settled));
    } finally {
      this.closed = true;
      await this.root.close();
      if (this.lockPath !== null) releaseWriterLock(this.lockPath);
    }
  }

  // --- internals ------------------------------------------------------------------------------------------

  private assertOpen(): void {
    assert(!this.closed, 'journal is closed');
  }

  private assertWritable(): void {
    this.assertOpen();
    assert(!this.closing, 'journal is closing');
    assert(!this.readOnly, 'journal was opened read-only');
    if (this.failure !== null) throw this.failure;
  }

  // Hot path: a plain `if` per check, the message is built only on failure.
  private assertAppendable(entries: readonly JournalEntry[]): void {
    const first = this.appendedSeq + 1;
    assert(first + entries.length - 1 <= SEQ_MAX, `seq ${first + entries.length - 1} would exceed SEQ_MAX ${SEQ_MAX}`);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (entry.seq !== first + i) {
        throw new Error(`journal: entry ${i}: seq ${entry.seq} is not contiguous, expected ${first + i}`);
      }
      const bytes = entry.bytes;
      if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > ENTRY_BYTES_MAX) {
        throw new Error(`journal: entry seq ${entry.seq}: bytes must be a Uint8Array of 1..${ENTRY_BYTES_MAX} bytes`);
      }
    }
  }

  private queuePuts(entries: readonly JournalEntry[]): void {
    const journal = this.journal;
    let tail = this.commitTail;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const commit = journal.put(entry.seq, entry.bytes);
      // lmdb-js returns one shared promise per transaction: attach the failure watch once per txn, not per put.
      if (commit !== tail) {
        this.watchCommit(commit);
        tail = commit;
        this.commitTail = commit;
        this.newestCommit = commit;
      }
      this.appendedSeq = entry.seq; // Per put: if a later put throws, this stays exact.
    }
  }

  private flushAppended(): Promise<void> {
    const target = this.appendedSeq;
    if (target === this.durableSeq) return Promise.resolve();
    assert(this.commitTail !== null, 'entries appended without a pending commit');
    return this.awaitDurable(this.commitTail, () => this.advanceDurable(target));
  }

  // Flushes can resolve out of call order (each waits on the newest flushed promise it sees); never go back.
  private advanceDurable(seq: number): void {
    assert(seq <= this.appendedSeq, `durable seq ${seq} beyond appended ${this.appendedSeq}`);
    if (seq > this.durableSeq) this.durableSeq = seq;
  }

  private watchCommit(commit: Promise<boolean>): void {
    commit.then(undefined, (error: unknown) => this.fail(error));
  }

  // lmdb-js's `flushed` never rejects (a failed txn just never resolves it), so each waiter is also
  // registered for rejection by fail(). A Set rather than Promise.race: race would leave a reaction on a
  // never-settling promise per call, an unbounded leak at thousands of flushes per second.
  private awaitDurable(commit: Promise<boolean>, onDurable: () => void): Promise<void> {
    assert(this.waiters.size < DURABILITY_WAITERS_MAX, `more than ${DURABILITY_WAITERS_MAX} flushes pending`);
    let resolve: () => void = noop;
    let reject: (error: Error) => void = noop;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: DurabilityWaiter = { resolve, reject, settled: durable.then(noop, noop) };
    this.waiters.add(waiter);
    commit
      .then(() => this.journal.flushed)
      .then(
        () => {
          if (!this.waiters.delete(waiter)) return; // Already rejected by fail().
          onDurable();
          waiter.resolve();
        },
        (error: unknown) => this.fail(error),
      );
    return durable;
  }

  private fail(error: unknown): void {
    if (this.failure !== null) return;
    const reason = error instanceof Error ? error.message : String(error);
    // Fail-stop: after a failed commit or fsync nothing later may be acknowledged (retrying an fsync can
    // report success for data the kernel already dropped). Recovery is: restart, reopen, replay.
    this.failure = new Error(`journal: write failed, journal is unusable until reopened: ${reason}`, { cause: error });
    this.rejectWaiters(this.failure);
  }

  private rejectWaiters(error: Error): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  // lmdb-js reuses one read transaction for an event-loop turn; a reader in another process must renew it to
  // see the writer's latest commit. The writer's own commits already renew it.
  private refreshReadView(): void {
    if (this.readOnly) this.journal.resetReadTxn();
  }

  private storedLastSeq(): number {
    for (const key of this.journal.getKeys({ start: SEQ_MAX, end: 0, reverse: true, limit: 1 })) return key;
    return 0;
  }

  // A writer killed between commit and fsync leaves entries that are visible (page cache) but not durable,
  // and lmdb-js assumes the newest meta is synced at open, so env.sync() would be a no-op. Rewriting the last
  // entry with its own bytes in a fully synchronous txn (fdatasync + durable meta) makes everything stored
  // durable before lastSeq() reports it. Cost: one fsync per open.
  private syncRecoveredTail(): void {
    const last = this.storedLastSeq();
    if (last === 0) return;
    this.journal.transactionSync(() => {
      const bytes = this.journal.getBinary(last);
      assert(bytes !== undefined, `last entry ${last} unreadable`);
      this.journal.put(last, bytes);
    });
  }

  // O(1) check at open: a gap or a duplicate would show as count != last - first + 1.
  private assertContiguous(): void {
    const count = entryCount(this.journal);
    const last = this.storedLastSeq();
    const first = this.firstSeq();
    const expected = last === 0 ? 0 : last - first + 1;
    assert(count === expected, `stored journal is not contiguous: ${count} entries for seqs ${first}..${last}`);
  }

  private *iterate(first: number, last: number): IterableIterator<JournalEntry> {
    if (first > last) return;
    let expected = first;
    for (const { key, value } of this.journal.getRange({ start: first, end: last, inclusiveEnd: true })) {
      checkNextEntry(key, expected, last);
      yield { seq: key, bytes: value };
      expected++;
    }
  }

  private snapshotHeader(seq: number): SnapshotHeader | undefined {
    // getBinaryFast: no copy of the (possibly large) payload; only the header is parsed, immediately.
    const value = this.snapshots.getBinaryFast(seq);
    if (value === undefined) return undefined;
    return decodeSnapshotHeader(seq, value);
  }
}

function openChunksDb(root: RootDatabase<Uint8Array, number>): Database<Uint8Array, Buffer> | null {
  const db: Database<Uint8Array, Buffer> | undefined = root.openDB<Uint8Array, Buffer>({ name: SNAPSHOT_CHUNKS_DB_NAME, encoding: 'binary', keyEncoding: 'binary' });
  return db ?? null;
}

/** Per entry of every read and replay: plain ifs, so that the messages are built only on failure. */
function checkNextEntry(key: number, expected: number, last: number): void {
  if (key !== expected) throw new Error(`invariant: journal gap: expected seq ${expected}, found ${key}`);
  if (expected > last) throw new Error(`invariant: read past requested end ${last}`);
}

function noop(): void {}

function entryCount(db: { getStats(): unknown }): number {
  const stats = db.getStats() as { entryCount?: unknown };
  assert(typeof stats.entryCount === 'number', 'lmdb-js getStats() has no entryCount');
  return stats.entryCount;
}
