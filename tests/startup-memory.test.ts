import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { releaseStartupMemory } from '../src/startup-memory.js';

const MB = 1024 * 1024;
const youngGeneration = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

it('shrinks the young generation a start-up grew, and leaves no gc exposed', () => {
  // Objects that survive their first collections, as a start-up's compiled schemas do: V8 grows
  // the young generation for them.
  let kept: object[] = [];
  for (let i = 0; i < 2_000_000; i++) kept.push({ i, text: `value ${i}` });
  const grown = youngGeneration();
  kept = [];

  releaseStartupMemory();

  expect(grown).toBeGreaterThanOrEqual(8 * MB);
  expect(youngGeneration()).toBeLessThanOrEqual(4 * MB);
  expect(kept).toHaveLength(0);
  expect(vm.runInNewContext('typeof gc')).toBe('undefined');
});
