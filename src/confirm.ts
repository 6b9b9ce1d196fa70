import { createInterface } from 'node:readline';

/** `y` or `yes`, any case, spaces around: anything else (an empty line included) is a no. */
export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}

/**
 * Whether a destructive command asks first: only a person at a terminal (stdin and stdout both
 * TTYs) is asked, and not after `--yes`; scripts and pipes run as they always did.
 */
export function mustAsk({ yes, stdinTTY, stdoutTTY }: { yes: boolean; stdinTTY: boolean; stdoutTTY: boolean }) {
  return !yes && stdinTTY && stdoutTTY;
}

/** Asks `question` (y/N) on the terminal; true only for a yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    // Ctrl-C and Ctrl-D are a no, as an empty line is.
    const answer = await new Promise<string>((resolve) => {
      rl.once('SIGINT', () => {
        process.stderr.write('\n');
        rl.close();
      });
      rl.once('close', () => resolve(''));
      rl.question(`${question} [y/N] `, resolve);
    });
    return isYes(answer);
  } finally {
    rl.close();
  }
}

/**
 * On a terminal and without `--yes`, asks `question` and throws `aborted` unless the answer is
 * yes. Returns whether it asked.
 */
export async function confirmOrAbort(question: string, yes: boolean | undefined, aborted: string): Promise<boolean> {
  const ask = mustAsk({
    yes: yes === true,
    stdinTTY: process.stdin.isTTY === true,
    stdoutTTY: process.stdout.isTTY === true,
  });
  if (ask && !(await confirm(question))) throw new Error(aborted);
  return ask;
}
