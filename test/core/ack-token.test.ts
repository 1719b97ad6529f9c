import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AckClaims,
  linkKindOf,
  newLinkSecret,
  signAckToken,
  signDigestToken,
  signViewToken,
  verifyAckToken,
  verifyDigestToken,
  verifyViewToken,
} from '#core/ack-token';
import { ValidationError } from '#core/errors';

const secret = 'test-link-secret-0123456789abcdef';
const now = new Date('2026-03-14T12:00:00Z');
const claims: AckClaims = {
  incidentId: 'abcdefgh2345',
  action: 'ack',
  responderId: 'alice',
  expiresAt: new Date('2026-03-15T12:00:00Z'),
};

/** The token with its `index`-th dot-separated field replaced. */
function withField(token: string, index: number, value: string): string {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
}

/** Re-signs with another secret and keeps the original MAC: what an attacker can build. */
function forgedWith(changes: Partial<AckClaims>): string {
  const original = signAckToken(claims, secret);
  const changed = signAckToken({ ...claims, ...changes }, secret);
  return withField(changed, 4, original.split('.')[4] ?? '');
}

describe('acknowledge link tokens', () => {
  it('round-trips the claims', () => {
    const token = signAckToken(claims, secret);
    expect(token).toMatch(/^abcdefgh2345\.a\.alice\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(verifyAckToken(token, secret, now)).toEqual({ ok: true, claims });
  });

  it('spells the expiry as Unix seconds in base36 and the action as one letter', () => {
    const token = signAckToken({ ...claims, action: 'resolve' }, Buffer.from(secret));
    const [, action, , expiry] = token.split('.');
    expect(action).toBe('r');
    expect(Number.parseInt(expiry ?? '', 36)).toBe(claims.expiresAt.getTime() / 1000);
    expect(verifyAckToken(token, secret, now)).toMatchObject({ ok: true, claims: { action: 'resolve' } });
  });

  it('an escalate link is the action e; an acknowledge link turned into one is forged', () => {
    const token = signAckToken({ ...claims, action: 'escalate' }, secret);
    expect(token.split('.')[1]).toBe('e');
    expect(linkKindOf(token)).toBe('act');
    expect(verifyAckToken(token, secret, now)).toEqual({
      ok: true,
      claims: { ...claims, action: 'escalate' },
    });
    expect(verifyViewToken(token, secret, now)).toMatchObject({ ok: false });
    expect(verifyAckToken(forgedWith({ action: 'escalate' }), secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('drops milliseconds from the expiry', () => {
    const token = signAckToken({ ...claims, expiresAt: new Date('2026-03-15T12:00:00.999Z') }, secret);
    expect(verifyAckToken(token, secret, now)).toEqual({ ok: true, claims });
  });

  it.each([
    ['action', { action: 'resolve' }],
    ['incident', { incidentId: 'abcdefgh2346' }],
    ['responder', { responderId: 'mallory' }],
    ['expiry', { expiresAt: new Date('2027-03-15T12:00:00Z') }],
  ] as const)('refuses a token whose %s was changed as forged', (_, changes) => {
    expect(verifyAckToken(forgedWith(changes), secret, now)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a token whose MAC was changed as forged', () => {
    const token = signAckToken(claims, secret);
    const mac = token.split('.')[4] ?? '';
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    expect(verifyAckToken(withField(token, 4, flipped), secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('refuses a MAC spelled differently in its unused last bits', () => {
    // 22 base64url characters carry 132 bits for 128: decoding would accept a twin spelling.
    const token = signAckToken(claims, secret);
    const mac = token.split('.')[4] ?? '';
    const last = mac.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1] ?? 'A';
    expect(Buffer.from(mac.slice(0, -1) + twin, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(verifyAckToken(withField(token, 4, mac.slice(0, -1) + twin), secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('refuses a token signed with another secret as forged', () => {
    const token = signAckToken(claims, newLinkSecret());
    expect(verifyAckToken(token, secret, now)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a token at and after its expiry as expired', () => {
    const token = signAckToken(claims, secret);
    expect(verifyAckToken(token, secret, new Date(claims.expiresAt.getTime() - 1))).toMatchObject({
      ok: true,
    });
    expect(verifyAckToken(token, secret, claims.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyAckToken(token, secret, new Date('2027-01-01T00:00:00Z'))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('calls an expired token that is also forged forged, revealing nothing about its expiry', () => {
    const token = forgedWith({ responderId: 'mallory' });
    expect(verifyAckToken(token, secret, new Date('2027-01-01T00:00:00Z'))).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  describe('refuses malformed tokens', () => {
    const token = signAckToken(claims, secret);
    it.each([
      ['empty', ''],
      ['too few parts', token.split('.').slice(0, 4).join('.')],
      ['too many parts', `${token}.x`],
      ['a trailing dot', `${token}.`],
      ['an unknown action', withField(token, 1, 'x')],
      ['a spelled-out action', withField(token, 1, 'ack')],
      ['an incident id with a bad character', withField(token, 0, 'abcdefgh2341')],
      ['a short incident id', withField(token, 0, 'abcdefgh234')],
      ['an upper-case incident id', withField(token, 0, 'ABCDEFGH2345')],
      ['a responder id with a bad character', withField(token, 2, 'al_ice')],
      ['a responder id starting with a dash', withField(token, 2, '-alice')],
      ['a responder id over 63 characters', withField(token, 2, 'a'.repeat(64))],
      ['an expiry with a leading zero', withField(token, 3, `0${token.split('.')[3]}`)],
      ['an upper-case expiry', withField(token, 3, (token.split('.')[3] ?? '').toUpperCase())],
      ['a negative expiry', withField(token, 3, '-1')],
      ['a short MAC', withField(token, 4, (token.split('.')[4] ?? '').slice(1))],
      ['a padded MAC', `${token}=`],
      ['a MAC in standard base64', withField(token, 4, `+/${(token.split('.')[4] ?? '').slice(2)}`)],
      ['whitespace', ` ${token}`],
      ['overlong input', `${token}${'a'.repeat(200)}`],
    ])('%s', (_, input) => {
      expect(verifyAckToken(input, secret, now)).toEqual({ ok: false, reason: 'malformed' });
    });
  });

  it('fits in an SMS link even for a 63-character responder id', () => {
    const token = signAckToken({ ...claims, responderId: 'r'.repeat(63) }, secret);
    expect(token.length).toBeLessThanOrEqual(120);
    expect(verifyAckToken(token, secret, now)).toMatchObject({ ok: true });
  });

  it('is URL-safe', () => {
    const token = signAckToken({ ...claims, responderId: 'on-call-1' }, secret);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('refuses to sign claims no token can carry, naming the fields', () => {
    const sign = () =>
      signAckToken(
        { incidentId: 'X', action: 'ack', responderId: 'Alice Smith', expiresAt: new Date(Number.NaN) },
        secret,
      );
    expect(sign).toThrow(ValidationError);
    try {
      sign();
    } catch (error) {
      expect((error as ValidationError).errors.map((e) => e.field)).toEqual([
        'incidentId',
        'responderId',
        'expiresAt',
      ]);
    }
  });

  it('refuses a missing or short secret instead of signing with it', () => {
    expect(() => signAckToken(claims, '')).toThrow(RangeError);
    expect(() => verifyAckToken(signAckToken(claims, secret), 'short', now)).toThrow(RangeError);
  });

  it('makes new secrets of 32 random bytes in base64url', () => {
    const a = newLinkSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(newLinkSecret()).not.toBe(a);
  });

  describe('for any claims', () => {
    const arbitraryClaims = fc.record({
      incidentId: fc.stringMatching(/^[a-z2-7]{12}$/),
      action: fc.constantFrom('ack' as const, 'resolve' as const),
      responderId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/),
      // Whole seconds from 1970 to 2100.
      expiresAt: fc.integer({ min: 1, max: 4_102_444_800 }).map((s) => new Date(s * 1000)),
    });
    const justBefore = (c: AckClaims) => new Date(c.expiresAt.getTime() - 1);

    it('sign then verify gives the claims back', () => {
      fc.assert(
        fc.property(arbitraryClaims, (c) => {
          expect(verifyAckToken(signAckToken(c, secret), secret, justBefore(c))).toEqual({
            ok: true,
            claims: c,
          });
        }),
      );
    });

    it('any single changed character is refused', () => {
      const replacement = fc.constantFrom(
        ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+/ %é😀',
      );
      fc.assert(
        fc.property(arbitraryClaims, fc.nat(), replacement, (c, position, char) => {
          const token = signAckToken(c, secret);
          const index = position % token.length;
          fc.pre(token[index] !== char);
          const changed = token.slice(0, index) + char + token.slice(index + 1);
          expect(verifyAckToken(changed, secret, justBefore(c)).ok).toBe(false);
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('"acknowledge all" link tokens of a digest', () => {
  const digest = { digestId: 'qrstuvwx2345', responderId: 'alice', expiresAt: claims.expiresAt };

  it('round-trip, with the action g and the digest id first', () => {
    const token = signDigestToken(digest, secret);
    expect(token).toMatch(/^qrstuvwx2345\.g\.alice\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(linkKindOf(token)).toBe('digest');
    expect(verifyDigestToken(token, secret, now)).toEqual({ ok: true, claims: digest });
  });

  it('neither kind verifies as the other', () => {
    const ack = signAckToken(claims, secret);
    expect(linkKindOf(ack)).toBe('act');
    expect(verifyDigestToken(ack, secret, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyAckToken(signDigestToken(digest, secret), secret, now)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    // The action is under the MAC: an acknowledge link relabelled g is forged.
    expect(verifyDigestToken(withField(ack, 1, 'g'), secret, now)).toEqual({ ok: false, reason: 'forged' });
  });

  it('expire, and refuse another secret, like acknowledge links', () => {
    const token = signDigestToken(digest, secret);
    expect(verifyDigestToken(token, secret, digest.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyDigestToken(token, newLinkSecret(), now)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuse to sign claims no token can carry, naming the fields', () => {
    expect(() => signDigestToken({ ...digest, digestId: 'NOPE' }, secret)).toThrow(
      expect.objectContaining({ errors: [{ field: 'digestId', message: 'must be 12 of [a-z2-7]' }] }),
    );
  });

  it('any single changed character is refused', () => {
    const token = signDigestToken(digest, secret);
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...'abgz27AZ09-_.=+/ %é'), (position, char) => {
        const index = position % token.length;
        fc.pre(token[index] !== char);
        const changed = token.slice(0, index) + char + token.slice(index + 1);
        expect(verifyDigestToken(changed, secret, now).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('incident (view) link tokens', () => {
  const view = { incidentId: claims.incidentId, responderId: 'alice', expiresAt: claims.expiresAt };

  it('round-trip, with the action v', () => {
    const token = signViewToken(view, secret);
    expect(token).toMatch(/^abcdefgh2345\.v\.alice\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(linkKindOf(token)).toBe('view');
    expect(verifyViewToken(token, secret, now)).toEqual({ ok: true, claims: view });
  });

  it('never acknowledge or resolve: the acknowledge verifier refuses them, and the view verifier acknowledge links', () => {
    const token = signViewToken(view, secret);
    expect(verifyAckToken(token, secret, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyDigestToken(token, secret, now)).toEqual({ ok: false, reason: 'malformed' });
    for (const action of ['ack', 'resolve'] as const) {
      const ack = signAckToken({ ...claims, action }, secret);
      expect(linkKindOf(ack)).toBe('act');
      expect(verifyViewToken(ack, secret, now)).toEqual({ ok: false, reason: 'malformed' });
      // The action is under the MAC: relabelled either way, a token is forged.
      expect(verifyViewToken(withField(ack, 1, 'v'), secret, now)).toEqual({ ok: false, reason: 'forged' });
      expect(verifyAckToken(withField(token, 1, ack.split('.')[1] ?? ''), secret, now)).toEqual({
        ok: false,
        reason: 'forged',
      });
    }
    expect(
      verifyViewToken(signDigestToken({ ...view, digestId: view.incidentId }, secret), secret, now),
    ).toEqual({ ok: false, reason: 'malformed' });
  });

  it('expire, and refuse another secret or a tampered field, like acknowledge links', () => {
    const token = signViewToken(view, secret);
    expect(verifyViewToken(token, secret, view.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyViewToken(token, newLinkSecret(), now)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyViewToken(withField(token, 2, 'mallory'), secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyViewToken(withField(token, 0, 'abcdefgh2346'), secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyViewToken(token.slice(0, -3), secret, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('any single changed character is refused', () => {
    const token = signViewToken(view, secret);
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...'abgrvz27AZ09-_.=+/ %é'), (position, char) => {
        const index = position % token.length;
        fc.pre(token[index] !== char);
        const changed = token.slice(0, index) + char + token.slice(index + 1);
        expect(verifyViewToken(changed, secret, now).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse to sign claims no token can carry, naming the fields', () => {
    expect(() => signViewToken({ ...view, incidentId: 'NOPE' }, secret)).toThrow(
      expect.objectContaining({ errors: [{ field: 'incidentId', message: 'must be 12 of [a-z2-7]' }] }),
    );
  });
});
