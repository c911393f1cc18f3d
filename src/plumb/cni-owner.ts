/**
 * Attachments a CNI runtime asked for (netplumb-cni): recorded under the runtime's container
 * id, as `cni:<CNI_CONTAINERID>`, rather than under the namespace's id, and with the CNI
 * network's name as their source — so that DEL finds one by container id and interface
 * after its namespace is gone, CHECK and GC by network, and `netplumb list/show/gc` see them
 * among the others. The `cni:` prefix is never a container name nor a namespace reference.
 */
import { invalidArgument } from '../errors.js';
import { CONTAINER_REF_MAX } from '../guest/ref.js';
import { networkName, type NetworkName } from './network-name.js';

/** Who asked, as a CNI runtime names it: its container id, and the network (the configuration's `name`). */
export interface CniOwner {
  containerId: string;
  network: string;
}

export interface CniOwnerPlan {
  readonly containerId: CniContainerId;
  readonly network: NetworkName;
}

declare const cniContainerIdBrand: unique symbol;
export type CniContainerId = string & { readonly [cniContainerIdBrand]: true };

const PREFIX = 'cni:';
/** The CNI spec's container id: a letter or digit, then letters, digits, `_`, `.`, `-`. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A recorded guest id of a CNI attachment. */
export const CNI_GUEST_ID = /^cni:[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function cniContainerId(field: string, v: unknown): CniContainerId {
  if (typeof v !== 'string' || !CONTAINER_ID.test(v) || v.length > CONTAINER_REF_MAX)
    throw invalidArgument(
      field,
      `${JSON.stringify(typeof v === 'string' ? v.slice(0, 80) : v)} is not a container id: a letter or digit, then letters, digits, "_", "." or "-", at most ${CONTAINER_REF_MAX}`,
    );
  return v as CniContainerId;
}

export function parseCniOwner(o: CniOwner): CniOwnerPlan {
  return {
    containerId: cniContainerId('cni.containerId', o.containerId),
    network: networkName('cni.network', o.network),
  };
}

/** The guest id a CNI attachment is recorded under. */
export function cniGuestId(containerId: CniContainerId): string {
  return `${PREFIX}${containerId}`;
}

/** The container id of a CNI attachment's guest id (`cni:<id>`), if it is one. */
export function cniContainerIdOf(guestId: string): CniContainerId | undefined {
  return CNI_GUEST_ID.test(guestId) ? (guestId.slice(PREFIX.length) as CniContainerId) : undefined;
}

/** The `source` of a CNI attachment's record: its network. */
export function cniSource(network: NetworkName): string {
  return `${PREFIX}${network}`;
}

/** The CNI network a record's source names, if it is a CNI attachment's. */
export function cniNetworkOf(source: string | undefined): string | undefined {
  return source?.startsWith(PREFIX) ? source.slice(PREFIX.length) : undefined;
}
