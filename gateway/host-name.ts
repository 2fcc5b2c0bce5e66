// What the configuration accepts as a host: an IP address, or a DNS name of RFC 1123 labels.

import { isIP } from 'node:net';

const HOST_CHARS_MAX = 253;
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  return value.length <= HOST_CHARS_MAX && HOST_NAME.test(value);
}
