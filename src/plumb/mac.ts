/**
 * Container MAC addresses: literal ones (normalised) and pipework's stable `U:<seed>` form.
 *
 * pipework (PR #173) derives the address with
 *     echo $macunique | md5sum | sed 's/^\(..\)\(..\)\(..\)\(..\)\(..\).*$/02:\1:\2:\3:\4:\5/'
 * i.e. `02:` followed by the first 5 bytes of md5(seed + "\n"): `echo` appends the newline.
 * Because `$macunique` is unquoted, the shell would also split it on whitespace, expand
 * glob characters and (dash's echo) interpret backslashes; seeds that the shell would
 * change are refused, so that every accepted seed gives exactly pipework's address.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { macAddress, type Mac } from '../validate.js';
import { STABLE_MAC_PREFIX, type MacPlan } from './plan.js';

/** Why the shell would not pass `seed` to md5sum unchanged, or undefined if it would. */
function shellAlteration(seed: string): string | undefined {
  if (seed.length === 0) return 'is empty (pipework would hash a lone newline: every container would get the same MAC)';
  if (/[\s]/u.test(seed)) return 'contains whitespace (the shell splits it)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters in the seed
  if (/[\u0000-\u001f\u007f]/u.test(seed)) return 'contains a control character';
  if (seed.includes('\\')) return 'contains a backslash (echo interprets it)';
  if (/[*?[]/.test(seed)) return 'contains a glob character (* ? [): the shell may expand it';
  if (/^-[neE]+$/.test(seed)) return `is an echo option (${seed})`;
  return undefined;
}

/** The exact bytes pipework hashes for `U:<seed>`: the seed's UTF-8 and echo's newline. */
export function stableMacSeedBytes(seed: string): Buffer {
  const why = shellAlteration(seed);
  if (why !== undefined) throw invalidArgument('mac', `U:${seed} ${why}`);
  return Buffer.from(`${seed}\n`, 'utf8');
}

/** pipework's `U:<seed>` MAC: `02:` + md5(seed + "\n")[0..5] (locally administered, unicast). */
export function stableMac(seed: string): Mac {
  const digest = createHash('md5').update(stableMacSeedBytes(seed)).digest();
  return ['02', ...Array.from(digest.subarray(0, 5), (b) => b.toString(16).padStart(2, '0'))].join(':') as Mac;
}

/**
 * A MAC argument: a literal unicast MAC (`aa:bb:…` or `AA-BB-…`, normalised to lowercase
 * colon hex) or `U:<seed>` (the address derived as pipework does, the seed kept).
 */
export function parseMac(field: string, text: string): MacPlan {
  if (text.startsWith(STABLE_MAC_PREFIX)) {
    const seed = text.slice(STABLE_MAC_PREFIX.length);
    return { address: stableMac(seed), seed };
  }
  if (/^u:/i.test(text))
    throw invalidArgument(
      field,
      `${JSON.stringify(text)} is not a MAC address; did you mean U:${text.slice(2)}? (the U is upper case)`,
    );
  return { address: macAddress(field, text) };
}
