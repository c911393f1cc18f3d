/**
 * An OVN network's name, checked where it comes in (an attach plan, a CNI configuration, a
 * `netplumb network` command) and recorded as a CNI attachment's source.
 */
import { invalidArgument } from '../errors.js';
import type { Brand } from '../validate.js';

/** An OVN network's name: a logical switch name netplumb accepts (no spaces, no shell syntax). */
export type NetworkName = Brand<string, 'NetworkName'>;

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function networkName(field: string, v: unknown): NetworkName {
  if (typeof v !== 'string' || !NETWORK_NAME.test(v))
    throw invalidArgument(
      field,
      `${JSON.stringify(v)} is not a network name: a letter or digit, then letters, digits, "_", ".", ":" or "-", at most 64`,
    );
  return v as NetworkName;
}
