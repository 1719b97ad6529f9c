import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase RFC 4648 base32 without padding: safe in URLs, keys, file names and SMS. */
function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function sha256(...parts: string[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest();
}

/**
 * The id of the `occurrence`-th incident opened for a (service, dedup key). Deterministic, so
 * concurrent and retried triggers of the same key agree on one incident without a lookup table.
 * 60 bits: collisions are negligible at any realistic incident count.
 */
export function incidentIdFor(service: string, dedupKey: string, occurrence: number): string {
  return base32(sha256('incident', service, dedupKey, String(occurrence)), 12);
}

/** A short stable fingerprint of an idempotency key, stored in the incident's `seen` set. */
export function eventHash(eventKey: string): string {
  return base32(sha256('event', eventKey), 13);
}

/**
 * The id of one sent digest message, the key its "acknowledge all" link names: random, so that a
 * retried digest (same contact, same due time) keeps its own list and never rewrites an earlier
 * message's. 60 bits, the shape of an incident id.
 */
export function newDigestId(): string {
  return base32(randomBytes(8), 12);
}

/** Stable id of a timeline entry caused by one input event, so a replay rewrites, not adds. */
export function timelineEntryId(incidentId: string, type: string, cause: string): string {
  return base32(sha256('timeline', incidentId, type, cause), 13);
}

/** SHA-256 hex of an integration key: keys are stored only in this form. */
export function hashIntegrationKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new integration key: 32 hex characters, the shape PagerDuty routing keys have. */
export function newIntegrationKey(): string {
  return randomBytes(16).toString('hex');
}

/** A random id for requests and generated dedup keys. */
export function randomId(): string {
  return base32(randomBytes(16), 26);
}
