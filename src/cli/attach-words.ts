/**
 * The words both command lines share (`pipework` positionals, `netplumb attach` option
 * values): the host interface, the guest, the IP argument. Each returns the parsed value
 * for the attach plan (../plumb/plan.ts) or throws INVALID_ARGUMENT naming the field.
 */
import { NetplumbError, invalidArgument } from '../errors.js';
import { CONTAINER_REF_MAX, parseGuestRef, type ParsedGuestRef } from '../guest/ref.js';
import { parseHostMac, type HostRef, type IpPlan } from '../plumb/plan.js';
import { gateway, ifName, ipAddress, ipPrefix, type IpFamily } from '../validate.js';

export const HOST_MAC_PREFIX = 'mac:';

/** `<hostinterface>` or `mac:<hostinterface_macaddress>` (PR #222). */
export function parseHostWord(field: string, word: string): HostRef {
  if (!word.startsWith(HOST_MAC_PREFIX)) return { name: ifName(field, word) };
  return { mac: parseHostMac(field, word.slice(HOST_MAC_PREFIX.length)), word };
}

/**
 * `<guest>`: a container name or id, or a namespace: `pid:<pid>`, `netns:<name>`,
 * `/run/netns/<name>`, `/proc/<pid>/ns/net` (netplumb extensions; pipework has none).
 * Read as every guest reference is (src/guest/ref.ts); a word that is none of these is
 * refused in the command line's terms.
 */
export function parseGuestWord(field: string, word: string): ParsedGuestRef {
  try {
    return parseGuestRef(word);
  } catch (e) {
    if (!(e instanceof NetplumbError && e.details.field === 'container')) throw e;
    throw invalidArgument(
      field,
      `${JSON.stringify(word)} is not a container name or id (letters, digits, "_", ".", "-"; at most ${CONTAINER_REF_MAX}, no ".."), nor pid:<pid>, netns:<name> or an absolute namespace path`,
    );
  }
}

/** pipework's DHCP words: `dhcp[:opts]`, `udhcpc[-f][:opts]`, `dhclient[-f][:opts]`, `dhcpcd[-f][:opts]`. */
const DHCP_WORD = /^(dhcp|udhcpc|dhclient|dhcpcd)(-f)?(?::([\s\S]*))?$/;
const NO_ADDRESS = new Set(['0/0', '0.0.0.0/0', '::/0']);
const IP_FORMS =
  '<ipaddr>/<subnet>[@<gateway>], 0/0, dhcp[:opts], udhcpc[-f][:opts], dhclient[-f][:opts] or dhcpcd[-f][:opts]';

export interface IpWord {
  ip: IpPlan;
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
  if (gatewayText === undefined) return { ip: { kind: 'static', address }, dhcpSidecar: false };
  return { ip: { kind: 'static', address, gateway: gateway('gateway', gatewayText, address) }, dhcpSidecar: false };
}
