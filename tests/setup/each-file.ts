import { afterEach, expect } from 'vitest';
import { forgetFileDatabase } from '../helpers/database.js';
import { takeViolations } from '../helpers/response-contract.js';

// Run before every test file. Workers keep modules from one file to the next (isolate: false in
// vitest.config.ts), so what a file owns starts afresh here: its database, its violations.
forgetFileDatabase();
takeViolations();

// A test whose requests got answers openapi.json does not describe fails, naming them.
afterEach(() => {
  expect(takeViolations(), 'answers that openapi.json does not describe').toEqual([]);
});
