import type { Context } from 'hono';
import * as z from 'zod/mini';
import {
  AuthenticationError,
  ConflictError,
  type FieldError,
  KlaxonError,
  NotFoundError,
  RetryableError,
  ValidationError,
} from '#core/errors';
import { lazySchema } from '#core/lazy';

/**
 * Error bodies. Ingest endpoints answer in the PagerDuty Events API v2 shape, so PagerDuty
 * clients read them as they would PagerDuty's:
 *   {"status":"invalid event","message":"…","errors":["payload.summary: …"]}
 * The management API answers {"message":"…","errors":[{"field":"…","message":"…"}]}.
 */
export type ErrorStyle = 'ingest' | 'api';

/** The management API's error body (also the OpenAPI document's error schema). */
export const ApiErrorBody = /* @__PURE__ */ lazySchema(() =>
  z.object({
    message: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })),
  }),
);

/** The ingest endpoints' error body, PagerDuty's shape: each error starts with the dotted field. */
export const IngestErrorBody = /* @__PURE__ */ lazySchema(() =>
  z.object({
    status: z.string(),
    message: z.string(),
    errors: z.array(z.string()),
  }),
);

export type Log = (level: 'info' | 'error', message: string, data?: Record<string, unknown>) => void;

export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 500 | 503;

export function errorStatus(error: unknown): ErrorStatus {
  if (error instanceof ValidationError) return 400;
  if (error instanceof AuthenticationError) return 401;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof RetryableError) return 503;
  return 500;
}

export function errorResponse(
  c: Context,
  error: unknown,
  style: ErrorStyle,
  status: ErrorStatus = errorStatus(error),
): Response {
  const fields: readonly FieldError[] =
    error instanceof ValidationError || error instanceof ConflictError ? error.errors : [];
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

/** The error response for `error`; 5xx are logged (their details stay out of the response). */
/** The API's answer to a path it has no route for. */
export function noRoute(c: Context): Response {
  return c.json({ message: `no route for ${c.req.method} ${c.req.path}`, errors: [] }, 404);
}

export function fail(c: Context, error: unknown, style: ErrorStyle, log: Log): Response {
  const status = errorStatus(error);
  // The route, not the path: paths carry integration keys and signed link tokens.
  if (status >= 500)
    log('error', 'request failed', { method: c.req.method, route: c.req.routePath, error: String(error) });
  // A retryable refusal says when to retry (RFC 9110), for clients that wait only when told to.
  if (status === 503) c.header('Retry-After', '1');
  return errorResponse(c, error, style, status);
}

/** Reads a JSON body; a body that is not JSON is a field error on `body`. */
export async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('Event object is invalid', [{ field: 'body', message: 'is not valid JSON' }]);
  }
}
