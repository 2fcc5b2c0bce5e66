// Many command frames in one transferable buffer: [u32 length][bytes][pad to 4] ... Crossing a thread costs
// microseconds per message, so the feeding thread sends one buffer per batch and transfers it (no copy).

export const FRAME_HEADER_BYTES = 4;

/** Packs frames; each frame is copied once, into the buffer that is then transferred. */
export function packFrames(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const frame of frames) total += FRAME_HEADER_BYTES + align4(frame.length);
  const packed = new Uint8Array(total);
  const view = new DataView(packed.buffer);
  let at = 0;
  for (const frame of frames) {
    view.setUint32(at, frame.length, true);
    packed.set(frame, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + align4(frame.length);
  }
  return packed;
}

/**
 * Calls `visit` with a view of each frame, in order. The views alias `packed`. Throws if the framing is
 * inconsistent: the packer is ours, so a bad length means memory corruption, not hostile input.
 */
export function forEachFrame(packed: Uint8Array, frameCountMax: number, visit: (frame: Uint8Array, index: number) => void): number {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  let at = 0;
  let index = 0;
  while (at < packed.length) {
    if (index >= frameCountMax) throw new Error(`invariant: batch holds more than ${frameCountMax} frames`);
    const length = view.getUint32(at, true);
    const start = at + FRAME_HEADER_BYTES;
    if (start + length > packed.length) throw new Error('invariant: packed frame runs past its batch');
    visit(packed.subarray(start, start + length), index);
    at = start + align4(length);
    index += 1;
  }
  return index;
}

function align4(length: number): number {
  return (length + 3) & ~3;
}
