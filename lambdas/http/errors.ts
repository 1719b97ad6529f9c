import type { Context } from 'hono';
import {
  AuthenticationError,
  type FieldError,
  KlaxonError,
  NotFoundError,
  RetryableError,
  ValidationError,
} from '#core/errors';

/**
 * Error bodies. Ingest endpoints answer in the PagerDuty Events API v2 shape, so PagerDuty
 * clients read them as they would PagerDuty's:
 *   {"status":"invalid event","message":"…","errors":["payload.summary: …"]}
 * The management API answers {"message":"…","errors":[{"field":"…","message":"…"}]}.
 */
export type ErrorStyle = 'ingest' | 'api';

export type ErrorStatus = 400 | 401 | 404 | 413 | 500 | 503;

export function errorStatus(error: unknown): ErrorStatus {
  if (error instanceof ValidationError) return 400;
  if (error instanceof AuthenticationError) return 401;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof RetryableError) return 503;
  return 500;
}

export function errorResponse(
  c: Context,
  error: unknown,
  style: ErrorStyle,
  status: ErrorStatus = errorStatus(error),
): Response {
  const fields: readonly FieldError[] = error instanceof ValidationError ? error.errors : [];
  // Internal errors keep their details in the logs, not in the response.
  const message =
    error instanceof KlaxonError && !(error instanceof RetryableError)
      ? error.message
      : status === 503
        ? 'temporarily unavailable, retry'
        : 'internal error';
  if (style === 'ingest') {
    return c.json(
      {
        status: status === 400 || status === 413 ? 'invalid event' : 'error',
        message,
        errors: fields.map((e) => `${e.field}: ${e.message}`),
      },
      status,
    );
  }
  return c.json({ message, errors: fields }, status);
}
