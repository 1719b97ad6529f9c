/**
 * One base error for Klaxon; subclasses carry a `cause` and are mapped by `instanceof`
 * at the edges (HTTP status, Lambda retry or not).
 */
export class KlaxonError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with one input field; `field` is a dotted path such as `payload.summary`. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The input is wrong. Retrying the same input can never succeed: answer 4xx, do not retry. */
export class ValidationError extends KlaxonError {
  constructor(
    message: string,
    readonly errors: readonly FieldError[],
  ) {
    super(message);
  }
}

/** The caller could not be authenticated (unknown integration key, bad token). */
export class AuthenticationError extends KlaxonError {}

/** Something the request names does not exist. */
export class NotFoundError extends KlaxonError {}

/**
 * The request is well-formed but the incident's state does not allow it (mitigating a resolved
 * incident). `errors` names the field that is in the way, usually `status`.
 */
export class ConflictError extends KlaxonError {
  constructor(
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

/** Invalid configuration: fails `cdk synth` and `npm start` before anything runs. */
export class ConfigError extends KlaxonError {
  /** `source`: what is invalid — the config file, or the environment a variable of which is named. */
  constructor(
    readonly errors: readonly FieldError[],
    source: 'Klaxon config' | 'environment' = 'Klaxon config',
  ) {
    super(`invalid ${source}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
}

/**
 * A transient condition (throttling, a race that another writer will settle, a 5xx from a
 * dependency). The work is safe to retry as a whole: Lambda/EventBridge retries it.
 */
export class RetryableError extends KlaxonError {}
