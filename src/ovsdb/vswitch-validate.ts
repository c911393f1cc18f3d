/**
 * Argument checks for the vswitch verbs, done before anything is sent to OVSDB.
 */
import { invalidArgument } from '../errors.js';
import { validateString } from './notation.js';
import type { VlanMode } from './vswitch-model.js';

/** Interface types backed by a kernel/tap netdev, whose names obey IFNAMSIZ (15 bytes). */
const NETDEV_TYPES = new Set(['', 'system', 'internal', 'tap']);
const VLAN_MODES: readonly VlanMode[] = ['trunk', 'access', 'native-tagged', 'native-untagged', 'dot1q-tunnel'];

export function validateName(field: string, name: unknown, type = ''): string {
  const s = validateString(field, name, { maxBytes: NETDEV_TYPES.has(type) ? 15 : 255 });
  if (/[\s/]/.test(s) || s === '.' || s === '..')
    throw invalidArgument(field, `"${s}" must not contain whitespace or "/" nor be "." or ".."`);
  return s;
}

export function validateVlan(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4094)
    throw invalidArgument(field, `VLAN ${JSON.stringify(v)} is not an integer in 1..4094`);
  return v;
}

export function validateTrunks(v: unknown): number[] {
  if (!Array.isArray(v)) throw invalidArgument('trunks', 'expected an array of VLAN ids');
  return [...new Set(v.map((t) => validateVlan('trunks', t)))].sort((a, b) => a - b);
}

export function validateVlanMode(v: unknown): VlanMode {
  if (!VLAN_MODES.includes(v as VlanMode))
    throw invalidArgument('vlanMode', `${JSON.stringify(v)} is not one of ${VLAN_MODES.join(', ')}`);
  return v as VlanMode;
}

export function validateMtu(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 68 || v > 65535)
    throw invalidArgument('mtuRequest', `${JSON.stringify(v)} is not an integer in 68..65535`);
  return v;
}

export function validateType(v: unknown): string {
  if (v === '') return v;
  const s = validateString('type', v, { maxBytes: 64 });
  if (!/^[a-z0-9_-]+$/.test(s)) throw invalidArgument('type', `"${s}" is not an interface type name`);
  return s;
}
