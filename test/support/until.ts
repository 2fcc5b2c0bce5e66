// Polling for a condition the system reaches asynchronously (a fill over a real socket, a logon): bounded,
// and the last error the probe threw is in the timeout message, so a failure says what it was waiting on.

export const UNTIL_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeout_ms = UNTIL_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const found = await probe();
      if (found !== undefined) return found;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : ` (${String(last)})`}`);
}
