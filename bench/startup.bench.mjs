// `fn --version` against a bare Node start: the CLI must add little to node's own start-up.
import { compareCommands, fnBin, node } from './lib.mjs';

export const name = 'startup';
export const description = 'fn --version vs node -e 0';

export async function run({ log }) {
  log('startup: fn --version vs node -e 0');
  const { subjectMs, baselineMs, runs, subjectCpuMs, baselineCpuMs } = compareCommands(
    { cmd: node, args: [fnBin, '--version'] },
    { cmd: node, args: ['-e', '0'] },
  );
  return [
    {
      bench: 'startup',
      case: 'fn --version',
      runs,
      value: subjectMs,
      baseline: baselineMs,
      baselineLabel: 'node -e 0',
      target: 1.5,
      cpu: subjectCpuMs,
      baselineCpu: baselineCpuMs,
    },
  ];
}
