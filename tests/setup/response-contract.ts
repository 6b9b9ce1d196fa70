import { afterEach, expect } from 'vitest';
import { takeViolations } from '../helpers/response-contract.js';

// A test whose requests got answers openapi.json does not describe fails, naming them.
afterEach(() => {
  expect(takeViolations(), 'answers that openapi.json does not describe').toEqual([]);
});
