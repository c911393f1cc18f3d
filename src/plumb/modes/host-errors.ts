/** Errors about the host interface an attach names, shared by the modes and the detection. */
import { ErrorCode, NetplumbError } from '../../errors.js';

export function bridgeNotFound(
  name: string,
  what: 'Linux bridge' | 'Open vSwitch bridge',
  where?: string,
): NetplumbError {
  const fix =
    what === 'Open vSwitch bridge'
      ? `create it with --create-bridge or ovs-vsctl add-br ${name}`
      : `create it with --create-bridge or ip link add ${name} type bridge`;
  return new NetplumbError(ErrorCode.NOT_FOUND, `${what} "${name}" not found${where ? ` in ${where}` : ''}; ${fix}`, {
    field: 'host',
  });
}

/** No such interface, and no mode makes it. */
export function hostNotFound(name: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.NOT_FOUND,
    `host interface "${name}" does not exist, and netplumb does not know how to set it up: name an existing bridge or NIC, or a new bridge starting with "br" (Linux) or "ovs" (Open vSwitch)`,
    { field: 'host' },
  );
}
