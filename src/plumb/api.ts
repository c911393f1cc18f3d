/** The engine's options, requests and results: what a Plumber takes and gives (src/index.ts exports them). */
import type { Logger } from 'pino';
import type { GuestRef } from '../guest/ref.js';
import type { NetnsSelector } from '../netns/index.js';
import type { ConnectionOptions } from '../ovsdb/connection.js';
import type { LeaseResolv } from './dhcp.js';
import type { AttachmentRecord } from './record.js';
import type { StepHook } from './rollback.js';

export interface PlumberOptions {
  logger?: Logger;
  /** OVSDB remote (`unix:/run/openvswitch/db.sock` by default, or $OVS_DB / $OVS_RUNDIR). */
  ovsDb?: string;
  /** OVN northbound database, for attachments to OVN networks (`unix:/run/ovn/ovnnb_db.sock` by default, or $OVN_NB_DB / $OVN_RUNDIR). */
  ovnNb?: string;
  /** Docker Engine API socket (`unix:///var/run/docker.sock` by default, or $DOCKER_HOST). */
  dockerHost?: string;
  /** Where declared attachments are kept (`attach --persist`): default $NETPLUMB_STATE_DIR, else /var/lib/netplumb. */
  stateDir?: string;
  /** The namespace host-side links live in (where ovs-vswitchd runs); default: this process's. */
  hostNetns?: NetnsSelector;
  /** `datapath_type` for OVS bridges netplumb creates; default `netdev` without the kernel module. */
  datapathType?: string;
  /** How long to wait for ovs-vswitchd to apply a port or a new bridge (ms; default DEFAULT_APPLY_TIMEOUT_MS, 10 s). */
  applyTimeoutMs?: number;
  /** OVSDB request deadline, reconnect backoff and inactivity probe (defaults: see ConnectionOptions). */
  ovsdbConnection?: Omit<ConnectionOptions, 'remote' | 'logger'>;
  /** Test hook: called after each completed step of an attach. */
  stepHook?: StepHook;
  /** Test hook: called after each completed step of removing an attachment (detach, or a replace). */
  detachStepHook?: StepHook;
  /**
   * Grace period (s) of an attach that has not finished (default 60): younger, it may still
   * be under way in another process, so gc keeps it and a re-run of the attach is refused
   * with CONFLICT; older, gc removes it and a re-run replaces it.
   */
  graceSeconds?: number;
}

export interface AttachResult {
  /** False when the same attachment already existed (idempotent no-op). */
  changed: boolean;
  record: AttachmentRecord;
  ofport?: number;
  /** Time the attach only waited for other daemons to finish it (ovs-vswitchd applying the port, ovn-controller binding it), ms. */
  waitedMs?: number;
  /** The attachment's host-side link (the host end of its veth); absent when it lives in the guest only. */
  hostLink?: string;
  /**
   * The DHCP lease's name servers and search domains, from the attachment's own resolv.conf
   * (the host's /etc/resolv.conf is never changed). Absent for a renewing client (`-f`): its
   * lease comes after the attach returns.
   */
  dhcp?: LeaseResolv;
}

export interface DetachRequest {
  guest: GuestRef;
  /** One interface; omitted: every attachment of the guest. */
  ifname?: string;
  /** The guest's attachments are a CNI runtime's, recorded under this container id (not the namespace's). */
  cniContainerId?: string;
}

export interface DetachResult {
  detached: AttachmentRecord[];
}

export interface Attachment {
  record: AttachmentRecord;
  /** The host-side link exists (veth modes). */
  hostLinkPresent: boolean;
  hostLinkUp: boolean;
  ofport?: number;
  ovsError?: string;
  /** The attachment's interface is gone (container died): `netplumb detach` or `gc` cleans it. */
  orphaned: boolean;
  /** Its attach has not finished (ISO 8601 time it began): under way, or killed (`gc` cleans it). */
  attachingSince?: string;
}
