import { describe, expect, it } from 'vitest';
import { isYes, mustAsk } from '../src/confirm.js';

describe('the confirmation of destructive CLI commands', () => {
  it('takes y and yes, in any case, as a yes; anything else, an empty answer included, as a no', () => {
    for (const answer of ['y', 'Y', 'yes', 'YES', ' yes ', 'Yes']) expect(isYes(answer), answer).toBe(true);
    for (const answer of ['', 'n', 'no', 'yess', 'ye', 'oui', 'y es', 'yes!'])
      expect(isYes(answer), answer).toBe(false);
  });

  it('asks only a terminal (stdin and stdout), and never after --yes', () => {
    expect(mustAsk({ yes: false, stdinTTY: true, stdoutTTY: true })).toBe(true);
    expect(mustAsk({ yes: true, stdinTTY: true, stdoutTTY: true })).toBe(false);
    expect(mustAsk({ yes: false, stdinTTY: false, stdoutTTY: true })).toBe(false);
    expect(mustAsk({ yes: false, stdinTTY: true, stdoutTTY: false })).toBe(false);
  });
});
