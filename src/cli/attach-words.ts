/**
 * The words both command lines share (`pipework` positionals, `netplumb attach` option
 * values): the host interface, the guest, the IP argument. Each returns validated,
 * normalised values for the attach spec or throws INVALID_ARGUMENT naming the field.
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import { parseNetnsSelector } from '../netns/selector.js';
import type { GuestRef, IpConfig } from '../plumb/spec.js';
import { gateway, ifName, ipAddress, ipPrefix, macAddress, type IpFamily } from '../validate.js';

export const HOST_MAC_PREFIX = 'mac:';

/** `<hostinterface>` or `mac:<hostinterface_macaddress>` (PR #222). */
export type HostWord = { host: string; hostMac?: string };

/** IPoIB hardware addresses are 20 bytes. */
const IPOIB_HWADDR = /^[0-9a-f]{2}(?::[0-9a-f]{2}){19}$/;

export function parseHostWord(field: string, word: string): HostWord {
  if (!word.startsWith(HOST_MAC_PREFIX)) return { host: ifName(field, word) };
  const text = word.slice(HOST_MAC_PREFIX.length).toLowerCase();
  if (IPOIB_HWADDR.test(text)) {
    // pipework's IPoIB mode (a child interface, @VID as its partition key) is not implemented.
    throw new NetplumbError(
      ErrorCode.UNSUPPORTED,
      `${word} is the 20-byte hardware address of an InfiniBand (IPoIB) NIC; netplumb does not attach containers to IPoIB (pipework's IPoIB child interfaces are not supported)`,
      { field },
    );
  }
  return { host: word, hostMac: macAddress(field, text) };
}

/** Docker/podman container names and ids, LXC names: no path or shell syntax. */
const CONTAINER_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/**
 * `<guest>`: a container name or id, or a namespace: `pid:<pid>`, `netns:<name>`,
 * `/run/netns/<name>`, `/proc/<pid>/ns/net` (netplumb extensions; pipework has none).
 */
export function parseGuestWord(field: string, word: string): GuestRef {
  const sel = parseNetnsSelector(word);
  if (sel !== null) {
    if ('name' in sel) return { netns: sel.name };
    if ('pid' in sel) return { pid: sel.pid };
    return { path: sel.path };
  }
  if (!CONTAINER_REF.test(word)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(word)} is not a container name or id (letters, digits, "_", ".", "-"; at most 255), nor pid:<pid>, netns:<name> or an absolute namespace path`,
    );
  }
  return { container: word };
}

/** pipework's DHCP words: `dhcp[:opts]`, `udhcpc[-f][:opts]`, `dhclient[-f][:opts]`, `dhcpcd[-f][:opts]`. */
const DHCP_WORD = /^(dhcp|udhcpc|dhclient|dhcpcd)(-f)?(?::([\s\S]*))?$/;
const NO_ADDRESS = new Set(['0/0', '0.0.0.0/0', '::/0']);
const IP_FORMS =
  '<ipaddr>/<subnet>[@<gateway>], 0/0, dhcp[:opts], udhcpc[-f][:opts], dhclient[-f][:opts] or dhcpcd[-f][:opts]';

export interface IpWord {
  ip: IpConfig;
  /**
   * pipework's plain `dhcp`: busybox udhcpc in a Docker sidecar container
   * (`docker run --net container:<guest> busybox udhcpc …`), not a host client.
   * `ip.client` is then `udhcpc`.
   */
  dhcpSidecar: boolean;
}

function dhcpWord(field: string, m: RegExpExecArray): IpWord {
  const name = m[1] as 'dhcp' | 'udhcpc' | 'dhclient' | 'dhcpcd';
  const optionText = m[3] ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse control characters in user input
  if (/[\u0000-\u0008\u000e-\u001f\u007f]/u.test(optionText))
    throw invalidArgument(field, 'DHCP client options contain a control character');
  // pipework expands the options unquoted: they are split on whitespace.
  const options = optionText.split(/\s+/u).filter((o) => o.length > 0);
  if (name === 'dhcp') {
    if (m[2] !== undefined)
      throw invalidArgument(
        field,
        `${JSON.stringify(m[0])}: the docker sidecar form is dhcp[:opts]; keep it running with dhcp:-f`,
      );
    return { ip: { kind: 'dhcp', client: 'udhcpc', foreground: options.includes('-f'), options }, dhcpSidecar: true };
  }
  return { ip: { kind: 'dhcp', client: name, foreground: m[2] !== undefined, options }, dhcpSidecar: false };
}

/**
 * The IP argument. `family` is pipework's `-a`: when given, a static address must be of
 * that family; otherwise the family is the address's own.
 */
export function parseIpWord(field: string, text: string, family?: IpFamily): IpWord {
  const dhcp = DHCP_WORD.exec(text);
  if (dhcp !== null) return dhcpWord(field, dhcp);
  const [addressText = '', gatewayText, ...extra] = text.split('@');
  if (extra.length > 0)
    throw invalidArgument(
      field,
      `${JSON.stringify(text)} has more than one "@"; expected <ipaddr>/<subnet>[@<gateway>]`,
    );
  if (NO_ADDRESS.has(addressText)) {
    if (gatewayText !== undefined)
      throw invalidArgument(
        'gateway',
        `${addressText} means "no address": a gateway needs an address on the interface`,
      );
    return { ip: { kind: 'none' }, dhcpSidecar: false };
  }
  if (!addressText.includes('/')) {
    let looksLikeIp = true;
    try {
      ipAddress(field, addressText, family);
    } catch {
      looksLikeIp = false;
    }
    if (!looksLikeIp) throw invalidArgument(field, `${JSON.stringify(text)} is not ${IP_FORMS}`);
    const guess = `${addressText}/${addressText.includes(':') ? 64 : 24}${gatewayText !== undefined ? `@${gatewayText}` : ''}`;
    throw invalidArgument(field, `The IP address should include a netmask. Maybe you meant ${guess}?`);
  }
  const address = ipPrefix(field, addressText, family === undefined ? {} : { family });
  if (gatewayText === undefined) return { ip: { kind: 'static', address: address.cidr }, dhcpSidecar: false };
  const gw = gateway('gateway', gatewayText, address);
  return { ip: { kind: 'static', address: address.cidr, gateway: gw.address }, dhcpSidecar: false };
}
