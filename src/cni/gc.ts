import type { CommandIo } from '../cli/io.js';
import type { NetConf } from './config.js';
import { CniCode, CniError } from './errors.js';

export async function cniGc(_io: CommandIo, _conf: NetConf): Promise<void> {
  throw new CniError(CniCode.UNSUPPORTED_FIELD, 'GC is not implemented yet');
}
