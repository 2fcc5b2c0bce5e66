// QuickFIX's C++ `executor` example (Debian: libquickfix-dev + libquickfix-doc, QuickFIX 1.15.1) as a real
// FIX 4.4 acceptor for integration tests: built once from the packaged sources into node_modules/.cache, then
// started as a child process per test with its own settings file and message store.
//
// How the executor answers (read from Application.cpp / QuickFIX's Session.cpp and checked on the wire against
// the 1.15.1 build; the executor is the acceptor, so 49 on its messages is `senderCompId`):
//   - NewOrderSingle (D) with OrdType 40=2 (limit) and a Price: one ExecutionReport (8) that fills the whole
//     order at the limit price. Tags, in the order they appear (tag-number order):
//       1=<Account, only if the order had one>  6=<AvgPx=Price>  11=<ClOrdID>  14=<CumQty=OrderQty>  17=<ExecID>
//       31=<LastPx=Price>  32=<LastQty=OrderQty>  37=<OrderID>  38=<OrderQty>  39=2 (Filled)  54=<Side>
//       55=<Symbol>  150=F (Trade)  151=0 (LeavesQty)
//     No ExecType=0 (New) ack precedes the fill, and there is no TransactTime (60), no ExecTransType (20), no
//     TimeInForce, no Currency. OrderID and ExecID are decimal counters "1", "2", ... shared by all sessions.
//     Price and quantity go through a C++ double, so they come back re-formatted: 44=190.10 -> 31=190.1 and
//     6=190.1. Fractional quantities are accepted and echoed (38=100.5 -> 14=100.5).
//   - NewOrderSingle with any other OrdType (market, stop, ...): the application throws IncorrectTagValue(40),
//     which QuickFIX turns into a SESSION-level Reject, not an ExecutionReport or a BusinessMessageReject:
//       35=3  45=<RefSeqNum>  58=Value is incorrect (out of range) for this tag  371=40  372=D  373=5
//   - Limit NewOrderSingle without Price (44): FieldNotFound -> BusinessMessageReject
//       35=j  45=<RefSeqNum>  58=Conditionally Required Field Missing (44)  372=D  380=5
//   - OrderCancelRequest (F), OrderCancelReplaceRequest (G), OrderStatusRequest (H) and every other application
//     message: the MessageCracker has no handler, so UnsupportedMessageType -> BusinessMessageReject
//       35=j  45=<RefSeqNum>  58=Unsupported Message Type  372=<F|G|H>  380=3
//     Never an OrderCancelReject (9): an OMS waiting for a cancel answer must treat 35=j as the answer.
//   - OrderID/ExecID counters live only in process memory (Application.h: m_orderID, m_execID start at 0), so
//     after every restart they start again at "1": the same ExecID is reused for a different fill. An OMS that
//     de-duplicates fills by ExecID will DROP the first fills after an executor restart unless the test accounts
//     for it (e.g. a fresh session/venue per run, or de-duplication keyed by more than ExecID).
//   - Session sequence numbers DO persist across restarts (FileStore under `<dataDir>/store`, fflush'ed after
//     every message, so they survive SIGKILL too), unless `resetOnLogon` is set or the initiator sends 141=Y.
//     An initiator that logs on with a MsgSeqNum lower than expected is logged out ("MsgSeqNum too low").
//
// Gotchas:
//   - The acceptor ignores HeartBtInt in its settings (SessionFactory reads it for initiators only) and adopts
//     the 108 of the initiator's Logon, so there is no heartbeat option here: the OMS side chooses it.
//   - executor.cpp logs with ScreenLogFactory, not FileLogFactory, so FileLogPath would be ignored; the screen
//     log (every message in and out, plus session events) is captured by output() and appended to
//     `<dataDir>/executor.log` instead.
//   - The executor has no signal handling: SIGTERM kills it like SIGKILL, without a Logout (35=5). To the OMS
//     every stop() is an abrupt TCP disconnect.
//   - StartTime=EndTime=00:00:00 makes the session always on, but QuickFIX considers a store created on an
//     earlier UTC date to belong to an old session and resets sequence numbers at the next logon: a test that
//     straddles midnight UTC sees sequence numbers restart at 1.
//   - A failed bind makes the executor abort ("pure virtual method called", SIGABRT) after printing
//     "Address already in use"; startExecutor retries with another port when it chose the port itself.
//   - QuickFIX C++ has no ValidOrderTypes setting (that is QuickFIX/J's executor); the limit-only rule is
//     hard-coded in Application.cpp.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { access, constants, mkdir, mkdtemp, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Under node_modules so `npm ci` (a fresh tree) also drops stale binaries. */
const CACHE_DIR = join(REPO, 'node_modules', '.cache', 'oms-quickfix-executor');
const EXECUTOR_SOURCE_DIR = '/usr/share/doc/libquickfix-doc/examples/executor/C++';
/** A header only libquickfix-dev ships: proves the headers and, with them, the link library are installed. */
const QUICKFIX_HEADER = '/usr/include/quickfix/SocketAcceptor.h';
const SOURCE_FILES = ['executor.cpp', 'Application.h', 'Application.cpp'] as const;
const APT_PACKAGES = 'libquickfix-dev libquickfix-doc g++';
/** The example's throw() specifications are ill-formed from C++17 on; -w hides its deprecation noise. */
const COMPILE_ARGS = ['-std=c++11', '-w', '-I.', 'executor.cpp', 'Application.cpp', '-lquickfix', '-lpthread'];
/** Hex digits of the source hash in the binary's name: enough that unrelated builds never collide. */
const BUILD_HASH_CHARS = 16;

const EXECUTOR_BUILD_TIMEOUT_MS = 180_000;
const TOOLCHAIN_QUERY_TIMEOUT_MS = 10_000;
const TOOL_OUTPUT_MAX_BYTES = 16 * 1024 * 1024;
const EXECUTOR_START_TIMEOUT_MS = 15_000;
const START_POLL_INTERVAL_MS = 25;
const START_POLL_ATTEMPTS_MAX = Math.ceil(EXECUTOR_START_TIMEOUT_MS / START_POLL_INTERVAL_MS);
const PORT_PROBE_TIMEOUT_MS = 1_000;
/** Ports startExecutor picks itself before giving up when another process keeps taking them first. */
const PORT_PICK_ATTEMPTS_MAX = 5;
const EXECUTOR_STOP_TIMEOUT_MS = 5_000;
const EXECUTOR_KILL_TIMEOUT_MS = 5_000;
/** output() keeps the tail: a long soak test logs every message and must not grow the heap without bound. */
const OUTPUT_CAPTURE_MAX_CHARS = 4 * 1024 * 1024;
/** QuickFIX writes these settings values verbatim; anything else could break the file's syntax. */
const COMP_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

const ADDRESS_IN_USE = 'Address already in use';

export interface ExecutorOptions {
  /** TCP port to accept on; 0 picks a free one. */
  port: number;
  /** The executor's own CompID: 49 on what it sends, 56 on what the OMS sends it. */
  senderCompId: string;
  /** The OMS's CompID. */
  targetCompId: string;
  /** Settings, message store (sequence numbers) and log live here; reuse it to keep sequence numbers. */
  dataDir: string;
  /** Reset sequence numbers to 1 on every Logon (ResetOnLogon=Y); default false: they persist. */
  resetOnLogon?: boolean;
}

export interface ExecutorHandle {
  readonly port: number;
  readonly settingsPath: string;
  /** FileStorePath: `FIX.4.4-<sender>-<target>.seqnums` here holds "<next sender> : <next target>". */
  readonly storeDir: string;
  /** SIGTERM, then SIGKILL if it has not exited within EXECUTOR_STOP_TIMEOUT_MS. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Stops it and starts it again on the same port with the same store: sequence numbers persist. */
  restart(): Promise<void>;
  /** stdout and stderr of every run so far, each run headed by a `=== executor pid N ===` line. */
  output(): string;
}

// ---- build -----------------------------------------------------------------------------------------------------

interface RunResult { error: Error | null; stdout: string; stderr: string }

function run(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: TOOL_OUTPUT_MAX_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
}

function missingPackages(what: string): Error {
  return new Error(
    `QuickFIX executor cannot be built: ${what}. Install it with \`apt-get install ${APT_PACKAGES}\` ` +
    '(on slim images also check /etc/dpkg/dpkg.cfg.d for a path-exclude of /usr/share/doc).');
}

async function exists(path: string, mode: number = constants.R_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Debian gzips some example files and not others, and that choice has changed between releases. */
async function readSource(name: string): Promise<Buffer> {
  const plain = join(EXECUTOR_SOURCE_DIR, name);
  if (await exists(plain)) return readFile(plain);
  const gzipped = `${plain}.gz`;
  if (await exists(gzipped)) return gunzipSync(await readFile(gzipped));
  throw missingPackages(`${plain}(.gz) not found`);
}

/** What, besides the sources, decides the binary: a new compiler or libquickfix soname means a rebuild. */
async function toolchainFingerprint(): Promise<string> {
  const version = await run('g++', ['-dumpfullversion'], REPO, TOOLCHAIN_QUERY_TIMEOUT_MS);
  if (version.error !== null) throw missingPackages(`g++ did not run (${version.error.message})`);
  const library = await run('g++', ['-print-file-name=libquickfix.so'], REPO, TOOLCHAIN_QUERY_TIMEOUT_MS);
  const libraryPath = library.stdout.trim();
  // g++ echoes the bare name back when it cannot find the library.
  if (library.error !== null || !libraryPath.includes('/')) throw missingPackages('libquickfix.so not found');
  return `g++ ${version.stdout.trim()}; ${await realpath(libraryPath)}`;
}

async function buildUncached(): Promise<string> {
  if (!(await exists(QUICKFIX_HEADER))) throw missingPackages(`${QUICKFIX_HEADER} not found`);
  const sources = await Promise.all(SOURCE_FILES.map(async (name) => ({ name, bytes: await readSource(name) })));
  const hash = createHash('sha256');
  hash.update(await toolchainFingerprint()).update(COMPILE_ARGS.join(' '));
  for (const source of sources) hash.update(source.name).update(source.bytes);
  const binary = join(CACHE_DIR, `executor-${hash.digest('hex').slice(0, BUILD_HASH_CHARS)}`);
  if (await exists(binary, constants.X_OK)) return binary;

  // Each caller builds in a directory of its own and renames the result into place: rename is atomic, so a
  // concurrent vitest worker sees either no binary or a whole one, and two racing builds of the same sources
  // just replace one identical file with another.
  await mkdir(CACHE_DIR, { recursive: true });
  const buildDir = await mkdtemp(join(CACHE_DIR, 'build-'));
  try {
    await Promise.all(sources.map((source) => writeFile(join(buildDir, source.name), source.bytes)));
    // Autotools would generate config.h; the example only needs it to exist.
    await writeFile(join(buildDir, 'config.h'), '');
    const built = await run('g++', [...COMPILE_ARGS, '-o', 'executor'], buildDir, EXECUTOR_BUILD_TIMEOUT_MS);
    if (built.error !== null) {
      throw new Error(`g++ failed to build the QuickFIX executor (${built.error.message}):\n${built.stderr}`);
    }
    await rename(join(buildDir, 'executor'), binary);
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
  return binary;
}

let building: Promise<string> | null = null;

/** Path of the executor binary, building it on first use. */
export function buildExecutor(): Promise<string> {
  if (building === null) {
    building = buildUncached();
    // A failed build (say the packages were installed meanwhile) must not stick for the rest of the run.
    building.catch(() => { building = null; });
  }
  return building;
}

// ---- run -------------------------------------------------------------------------------------------------------

/** Executors still running, so that a test that forgets stop() does not leave one behind when its worker exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A free port is one the kernel just handed out on 127.0.0.1; another process may still take it first. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: PORT_PROBE_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function settingsFile(options: ExecutorOptions, port: number, storeDir: string): string {
  return [
    '# Written by test/support/quickfix-executor.ts',
    '[DEFAULT]',
    'ConnectionType=acceptor',
    `SocketAcceptPort=${port}`,
    // Restarts rebind the port while connections from the previous run are still in TIME_WAIT.
    'SocketReuseAddress=Y',
    // Without it every small message waits for the peer's delayed ACK: tens of ms per round trip.
    'SocketNodelay=Y',
    // Equal start and end: the session never closes.
    'StartTime=00:00:00',
    'EndTime=00:00:00',
    `FileStorePath=${storeDir}`,
    // No data dictionary ships with the Debian packages; without one QuickFIX validates only the header.
    'UseDataDictionary=N',
    `ResetOnLogon=${options.resetOnLogon === true ? 'Y' : 'N'}`,
    '',
    '[SESSION]',
    'BeginString=FIX.4.4',
    `SenderCompID=${options.senderCompId}`,
    `TargetCompID=${options.targetCompId}`,
    '',
  ].join('\n');
}

class StartFailure extends Error {
  constructor(message: string, readonly portInUse: boolean) {
    super(message);
  }
}

class Executor implements ExecutorHandle {
  private child: ChildProcess | null = null;
  private closed: Promise<void> = Promise.resolve();
  private exitDescription: string | null = null;
  private captured = '';
  /** This run's output up to readiness, kept whole so the readiness check survives output() trimming. */
  private runOutput = '';
  private ready = false;
  private readonly logPath: string;

  constructor(
    private readonly binary: string,
    readonly port: number,
    readonly settingsPath: string,
    readonly storeDir: string,
    dataDir: string,
  ) {
    this.logPath = join(dataDir, 'executor.log');
  }

  output(): string {
    return this.captured.length > OUTPUT_CAPTURE_MAX_CHARS ? this.captured.slice(-OUTPUT_CAPTURE_MAX_CHARS) : this.captured;
  }

  async launch(): Promise<void> {
    if (this.child !== null) throw new Error('QuickFIX executor is already running');
    const child = spawn(this.binary, [this.settingsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitDescription = null;
    this.runOutput = '';
    this.ready = false;
    live.add(child);
    this.capture(`=== executor pid ${child.pid ?? '?'} ===\n`);
    const onChunk = (chunk: Buffer): void => this.capture(chunk.toString('utf8'));
    child.stdout?.on('data', onChunk);
    child.stderr?.on('data', onChunk);
    this.closed = new Promise((resolve) => {
      const finish = (description: string): void => {
        if (this.exitDescription !== null) return;
        this.exitDescription = description;
        live.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      };
      child.once('error', (error) => finish(`failed: ${error.message}`));
      child.once('close', (code, signal) => finish(signal === null ? `exit code ${code}` : `signal ${signal}`));
    });
    try {
      await this.waitUntilAccepting();
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /**
   * An accepted probe connection alone could come from another process holding the port (the executor then
   * aborts on bind), so readiness also needs the executor's own "Accepted connection" log line for the probe.
   */
  private async waitUntilAccepting(): Promise<void> {
    // Not matched with the port: QuickFIX prints it as a signed 16-bit number (38385 shows as -27151), and the
    // executor's only acceptor is on this port anyway.
    const accepted = 'Accepted connection from 127.0.0.1 on port ';
    let probed = false;
    for (let attempt = 0; attempt < START_POLL_ATTEMPTS_MAX; attempt++) {
      if (this.exitDescription !== null) {
        await this.closed;
        throw new StartFailure(this.startError(`exited (${this.exitDescription}) before accepting connections`),
          this.runOutput.includes(ADDRESS_IN_USE));
      }
      if (probed && this.runOutput.includes(accepted)) {
        this.ready = true;
        return;
      }
      if (!probed) probed = await canConnect(this.port);
      await delay(START_POLL_INTERVAL_MS);
    }
    throw new StartFailure(
      this.startError(`did not accept TCP connections on port ${this.port} within ${EXECUTOR_START_TIMEOUT_MS} ms`),
      false);
  }

  private startError(what: string): string {
    return `QuickFIX executor ${what}. Settings ${this.settingsPath}. Output:\n${this.runOutput}`;
  }

  private capture(text: string): void {
    this.captured += text;
    // Trimmed to the limit only once it is twice over, so that a busy executor (a benchmark) does not copy
    // megabytes per chunk; output() trims what it returns.
    if (this.captured.length > 2 * OUTPUT_CAPTURE_MAX_CHARS) this.captured = this.captured.slice(-OUTPUT_CAPTURE_MAX_CHARS);
    if (!this.ready) this.runOutput += text;
    try {
      appendFileSync(this.logPath, text);
    } catch {
      // The file copy is for post-mortems only: a test that removed dataDir before stop() still has output().
    }
  }

  /** Resolves true once the process has exited, false if it is still running after timeoutMs. */
  private async exitedWithin(timeoutMs: number): Promise<boolean> {
    const timer = new AbortController();
    const timedOut = delay(timeoutMs, false, { signal: timer.signal }).catch(() => false);
    const exited = await Promise.race([this.closed.then(() => true), timedOut]);
    timer.abort();
    return exited;
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    const child = this.child;
    if (child === null) return true;
    child.kill(signal);
    return this.exitedWithin(timeoutMs);
  }

  async stop(): Promise<void> {
    if (await this.signal('SIGTERM', EXECUTOR_STOP_TIMEOUT_MS)) return;
    await this.kill();
  }

  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (!(await this.signal('SIGKILL', EXECUTOR_KILL_TIMEOUT_MS))) {
      throw new Error(`QuickFIX executor pid ${pid ?? '?'} did not exit ${EXECUTOR_KILL_TIMEOUT_MS} ms after SIGKILL`);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

/** Starts an executor and resolves once it accepts TCP connections on the returned handle's port. */
export async function startExecutor(options: ExecutorOptions): Promise<ExecutorHandle> {
  for (const compId of [options.senderCompId, options.targetCompId]) {
    if (!COMP_ID_PATTERN.test(compId)) throw new Error(`CompID ${JSON.stringify(compId)} must match ${COMP_ID_PATTERN}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new Error(`port ${options.port} is not a TCP port`);
  }
  const binary = await buildExecutor();
  const storeDir = join(options.dataDir, 'store');
  await mkdir(storeDir, { recursive: true });
  const settingsPath = join(options.dataDir, 'executor.cfg');
  const attempts = options.port === 0 ? PORT_PICK_ATTEMPTS_MAX : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port === 0 ? await pickFreePort() : options.port;
    await writeFile(settingsPath, settingsFile(options, port, storeDir));
    const executor = new Executor(binary, port, settingsPath, storeDir, options.dataDir);
    try {
      await executor.launch();
      return executor;
    } catch (error) {
      if (!(error instanceof StartFailure && error.portInUse && attempt < attempts)) throw error;
    }
  }
}
