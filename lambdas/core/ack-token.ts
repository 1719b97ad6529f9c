import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.ts';

/**
 * Signed acknowledge/resolve link tokens. They travel in SMS (160 characters with the host), so they
 * are short and URL-safe:
 *
 *     <incident id>.<a|r|e|z|v>.<responder id>.<expiry, Unix seconds in base36>.<mac>
 *     e.g. 7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg
 *
 * `mac` is the first 16 bytes of HMAC-SHA256 over the four fields (NUL-framed, with a version
 * label) in base64url: 22 characters. A 63-character responder id gives a 108-character token.
 * Every field is canonical (one spelling per value), so any change to a token's text is either
 * malformed or fails the MAC.
 *
 * A digest's "acknowledge all" link has the same shape with the action `g` and the digest's id in
 * the first field (`signDigestToken`), and a page's incident link (the incident's read-only page)
 * the action `v` (`signViewToken`). Each verifier accepts only its own actions, so no kind of
 * token can stand in for another: a view token itself never acknowledges or resolves. (The page it
 * opens offers, while the incident is open, its holder's own acknowledge and resolve links — the
 * same power the page that carried it already gave that responder — and, while it escalates, an
 * escalate link (`e`): page the next level now; while it is acknowledged, a snooze link (`z`):
 * its acknowledgement lapses later.)
 */

export const ACK_ACTIONS = ['ack', 'resolve', 'escalate', 'snooze'] as const;
export type AckAction = (typeof ACK_ACTIONS)[number];

export interface AckClaims {
  readonly incidentId: string;
  readonly action: AckAction;
  readonly responderId: string;
  /** Whole seconds: signing drops milliseconds. The token is valid while `now < expiresAt`. */
  readonly expiresAt: Date;
}

export type AckTokenRejection = 'malformed' | 'forged' | 'expired';
/** A verifier's answer: the claims of its kind of token, or why the token was refused. */
export type AckTokenResult<C = AckClaims> =
  | { readonly ok: true; readonly claims: C }
  | { readonly ok: false; readonly reason: AckTokenRejection };

/** Longer input is refused before any parsing or hashing. */
export const MAX_ACK_TOKEN_LENGTH = 200;

const LABEL = 'klaxon-ack-v1';
const MAC_BYTES = 16;
const MIN_SECRET_BYTES = 16;
const ACTION_CODES: Readonly<Record<AckAction, string>> = {
  ack: 'a',
  resolve: 'r',
  escalate: 'e',
  snooze: 'z',
};
/** An incident's id, or a digest's. */
const ID = /^[a-z2-7]{12}$/;
const RESPONDER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Base36 without leading zeros; 10 digits hold every Date (and stay below 2^53). */
const EXPIRY = /^[1-9a-z][0-9a-z]{0,9}$/;
const MAC = /^[A-Za-z0-9_-]{22}$/;

function keyOf(secret: string | Buffer): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  // A missing or placeholder secret is a deployment bug: fail loudly rather than sign with it.
  if (key.length < MIN_SECRET_BYTES)
    throw new RangeError(`link secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

function macOf(key: Buffer, id: string, actionCode: string, responderId: string, expiry: string): string {
  return createHmac('sha256', key)
    .update([LABEL, id, actionCode, responderId, expiry].join('\u0000'))
    .digest()
    .subarray(0, MAC_BYTES)
    .toString('base64url');
}

/** Signs claims into a token. Throws ValidationError for claims that no token can carry. */
export function signAckToken(claims: AckClaims, secret: string | Buffer): string {
  const errors = ACK_ACTIONS.includes(claims.action)
    ? []
    : [{ field: 'action', message: 'must be ack, resolve, escalate or snooze' }];
  return sign(
    { field: 'incidentId', id: claims.incidentId, code: ACTION_CODES[claims.action], ...claims },
    secret,
    errors,
  );
}

/**
 * Verifies a token. Order matters: shape first ('malformed'), then the MAC in constant time
 * ('forged'), and only then the expiry ('expired'), so a forged token reveals nothing about it.
 */
export function verifyAckToken(token: string, secret: string | Buffer, now: Date): AckTokenResult {
  const verified = verify(token, secret, now, (code) =>
    ACK_ACTIONS.find((action) => ACTION_CODES[action] === code),
  );
  if (!verified.ok) return verified;
  const { id: incidentId, action, responderId, expiresAt } = verified;
  return { ok: true, claims: { incidentId, action, responderId, expiresAt } };
}

/** An "acknowledge all" link: every incident a digest named, acknowledged as one responder. */
export interface DigestClaims {
  /** The digest's id (12 of [a-z2-7], like an incident id). */
  readonly digestId: string;
  readonly responderId: string;
  readonly expiresAt: Date;
}

export type DigestTokenResult = AckTokenResult<DigestClaims>;

const DIGEST_CODE = 'g';

export function signDigestToken(claims: DigestClaims, secret: string | Buffer): string {
  return sign({ field: 'digestId', id: claims.digestId, code: DIGEST_CODE, ...claims }, secret, []);
}

export function verifyDigestToken(token: string, secret: string | Buffer, now: Date): DigestTokenResult {
  const verified = verify(token, secret, now, (code) => (code === DIGEST_CODE ? 'ack-all' : undefined));
  if (!verified.ok) return verified;
  const { id: digestId, responderId, expiresAt } = verified;
  return { ok: true, claims: { digestId, responderId, expiresAt } };
}

/** A page's incident link: the incident's read-only page, as the responder it was sent to. */
export interface ViewClaims {
  readonly incidentId: string;
  readonly responderId: string;
  readonly expiresAt: Date;
}

export type ViewTokenResult = AckTokenResult<ViewClaims>;

const VIEW_CODE = 'v';

export function signViewToken(claims: ViewClaims, secret: string | Buffer): string {
  return sign({ field: 'incidentId', id: claims.incidentId, code: VIEW_CODE, ...claims }, secret, []);
}

export function verifyViewToken(token: string, secret: string | Buffer, now: Date): ViewTokenResult {
  const verified = verify(token, secret, now, (code) => (code === VIEW_CODE ? 'view' : undefined));
  if (!verified.ok) return verified;
  const { id: incidentId, responderId, expiresAt } = verified;
  return { ok: true, claims: { incidentId, responderId, expiresAt } };
}

/**
 * Which verifier a link token is for, by its action field (the token is not checked here):
 * `act` for acknowledge/resolve (and anything unknown, which that verifier refuses).
 */
export function linkKindOf(token: string): 'digest' | 'view' | 'act' {
  const code = token.split('.', 3)[1];
  return code === DIGEST_CODE ? 'digest' : code === VIEW_CODE ? 'view' : 'act';
}

function sign(
  claims: { field: string; id: string; code: string; responderId: string; expiresAt: Date },
  secret: string | Buffer,
  actionErrors: readonly { field: string; message: string }[],
): string {
  const seconds = Math.floor(claims.expiresAt.getTime() / 1000);
  const errors = [
    ...(ID.test(claims.id) ? [] : [{ field: claims.field, message: 'must be 12 of [a-z2-7]' }]),
    ...actionErrors,
    ...(RESPONDER_ID.test(claims.responderId)
      ? []
      : [{ field: 'responderId', message: 'must be a slug of at most 63 characters' }]),
    ...(Number.isSafeInteger(seconds) && seconds > 0
      ? []
      : [{ field: 'expiresAt', message: 'must be a valid time after 1970' }]),
  ];
  if (errors.length > 0) throw new ValidationError('cannot sign these acknowledge-link claims', errors);
  const expiry = seconds.toString(36);
  const mac = macOf(keyOf(secret), claims.id, claims.code, claims.responderId, expiry);
  return [claims.id, claims.code, claims.responderId, expiry, mac].join('.');
}

function verify<A extends string>(
  token: string,
  secret: string | Buffer,
  now: Date,
  actionOf: (code: string) => A | undefined,
):
  | { ok: true; id: string; action: A; responderId: string; expiresAt: Date }
  | { ok: false; reason: AckTokenRejection } {
  const key = keyOf(secret);
  if (token.length > MAX_ACK_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 5) return { ok: false, reason: 'malformed' };
  const [id = '', actionCode = '', responderId = '', expiry = '', mac = ''] = parts;
  const action = actionOf(actionCode);
  if (
    action === undefined ||
    !ID.test(id) ||
    !RESPONDER_ID.test(responderId) ||
    !EXPIRY.test(expiry) ||
    !MAC.test(mac)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  // Compare the canonical base64url text, not decoded bytes: the last of 22 characters carries
  // unused bits, and decoding would accept several spellings of one MAC.
  const expected = Buffer.from(macOf(key, id, actionCode, responderId, expiry), 'ascii');
  if (!timingSafeEqual(expected, Buffer.from(mac, 'ascii'))) return { ok: false, reason: 'forged' };
  const expiresAt = new Date(Number.parseInt(expiry, 36) * 1000);
  // Only reachable with a validly signed token, which sign never makes.
  if (Number.isNaN(expiresAt.getTime())) return { ok: false, reason: 'malformed' };
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, id, action, responderId, expiresAt };
}

/** A new link-signing secret: 32 random bytes in base64url (43 characters). */
export function newLinkSecret(): string {
  return randomBytes(32).toString('base64url');
}
