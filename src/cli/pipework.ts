/** Drop-in `pipework` command line with the original syntax. */
export function main(_argv: string[]): void {
  process.stderr.write('pipework: the attach/detach engine is not available in this version yet\n');
  process.exitCode = 1;
}
