/** `netplumb` command line: argv → library call → exit code and output. */
export function main(_argv: string[]): void {
  process.stderr.write('netplumb: the attach/detach engine is not available in this version yet\n');
  process.exitCode = 15;
}
