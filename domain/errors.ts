/**
 * What the business rules say went wrong, in their own words. Domain functions throw these and
 * nothing else; each API's error handler (plugins/errors.ts) turns them into its status and shape.
 */
export type FieldErrors = Record<string, string[]>;

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    message: string,
    /** Messages per field, for an invalid or conflicting input. */
    readonly fields?: FieldErrors,
  ) {
    super(message);
  }
}

export type DomainErrorKind =
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'invalid'
  | 'gone'
  | 'unsupported'
  | 'too-many'
  | 'busy';

/** The thing does not exist, or the caller may not know it does. */
export class NotFound extends DomainError {
  readonly kind = 'not-found';
}

/** The request contradicts what is stored (a duplicate, a state that does not allow it). */
export class Conflict extends DomainError {
  readonly kind = 'conflict';
}

/** The caller is known but may not do this. */
export class Forbidden extends DomainError {
  readonly kind = 'forbidden';
}

/** Credentials or a token that do not identify anyone. */
export class Unauthenticated extends DomainError {
  readonly kind = 'unauthenticated';
}

/** Well-formed input that the rules refuse (a date in the future, a reference to nothing). */
export class Invalid extends DomainError {
  readonly kind = 'invalid';
}

/** What was asked for existed but is no longer kept. */
export class Gone extends DomainError {
  readonly kind = 'gone';
}

/** Content of a kind the rules do not accept (a file type read from its bytes). */
export class Unsupported extends DomainError {
  readonly kind = 'unsupported';
}

/** A refusal for now: the caller may try again after `retryAfter` seconds. */
abstract class RetryLater extends DomainError {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }
}

/** The caller's budget is spent. */
export class TooMany extends RetryLater {
  readonly kind = 'too-many';
}

/** Everyone's capacity is taken. */
export class Busy extends RetryLater {
  readonly kind = 'busy';
}
