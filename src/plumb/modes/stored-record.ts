/**
 * An attachment's record as a link keeps it (the alias: enough to find and clean up, and a
 * digest of the settings), shared by the modes that record on a host link and those that
 * record on the guest's interface.
 */
import { ErrorCode, NetplumbError } from '../../errors.js';
import type { Link } from '../../rtnl/index.js';
import { ALIAS_PREFIX, decodeAlias, type AttachmentRecord } from '../record.js';
import type { Found } from './mode.js';

/**
 * The attachment recorded on `link`, for an attach that wants `wanted`: the link's record
 * completed with the wanted settings when it is of the same mode (the alias has a digest,
 * not the settings). A link by that name that netplumb did not make is a CONFLICT on `field`.
 */
export function recordOnLink(link: Link, wanted: AttachmentRecord, field: string): Found {
  const decoded = link.alias?.startsWith(ALIAS_PREFIX) ? decodeAlias(link.alias) : undefined;
  if (decoded === undefined)
    throw new NetplumbError(
      ErrorCode.CONFLICT,
      `interface "${link.name}" exists and was not made by netplumb; choose another name`,
      { field },
    );
  const { record, attachingSince } = decoded;
  if (attachingSince !== undefined) return { record: { ...wanted, ...record }, attachingSince };
  return { record: record.mode === wanted.mode ? { ...wanted, ...record } : record };
}
