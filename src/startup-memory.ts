import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Gives back the memory the start-up used and no longer needs. Building the app (modules, route
 * schemas) grows V8's young generation to its largest (2 × 8 MB with `--max-semi-space-size=8`),
 * and V8 shrinks it only in a collection that aims at reducing memory, which an idle server never
 * runs. One such collection after the start took the idle RSS from 137 to 103 MB
 * (docs/benchmarks.md); under load the young generation grows again as it needs.
 *
 * The collector is reached as V8 exposes it (`gc`, with options) in a context of its own, and the
 * flag is cleared again at once: no other code gets a `gc` to call.
 */
export function releaseStartupMemory(): void {
  v8.setFlagsFromString('--expose-gc');
  try {
    const collect = vm.runInNewContext('gc') as Collect;
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
