import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Alert, AlertSchema } from '#core/alert';
import {
  ALERT_ENTRY_BUDGET_BYTES,
  fitAlertToEntry,
  MAX_PUT_EVENTS_ENTRY_BYTES,
  putEventsEntrySize,
  TRUNCATION_MARKER,
  type TruncationMarker,
} from '#core/event-size';
import { ALERT_DETAIL_TYPE, INGEST_SOURCE } from '#core/routing';
import { makeAlert } from '../support/alerts.ts';

const KB = 1024;
const envelope = { source: INGEST_SOURCE, detailType: ALERT_DETAIL_TYPE, time: '2026-11-26T10:00:00.000Z' };
const entryBytes = (alert: Alert) => putEventsEntrySize({ ...envelope, detail: JSON.stringify(alert) });
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const markerOf = (alert: Alert) => alert.details[TRUNCATION_MARKER] as TruncationMarker | undefined;

/** The fields that make the alert do its job: they must come through any shrinking unchanged. */
const essentials = (alert: Alert) => {
  const { details: _d, links: _l, images: _i, clientUrl: _c, ...rest } = alert;
  return rest;
};

describe('PutEvents entry size', () => {
  it('counts Time as 14 bytes and Source, DetailType, Detail and each resource in UTF-8 bytes', () => {
    expect(putEventsEntrySize({ source: 'a', detailType: 'bc', detail: '{"x":"é"}' })).toBe(1 + 2 + 10);
    expect(
      putEventsEntrySize({
        time: new Date(),
        source: 'a',
        detailType: 'b',
        detail: '{}',
        resources: ['arn:1', 'ü'],
      }),
    ).toBe(14 + 1 + 1 + 2 + 5 + 2);
  });
});

describe('fitting an alert into one PutEvents entry', () => {
  it('leaves an alert that fits as it is (the same object)', () => {
    const alert = makeAlert({ details: { log: 'x'.repeat(200 * KB) } });
    expect(fitAlertToEntry(alert, envelope)).toBe(alert);
  });

  it('cuts a 300 KB detail to fit under 256 KB, keeps the small details, and says what it dropped', () => {
    const alert = makeAlert({ details: { log: 'L'.repeat(300 * KB), host: 'db-1', 'load avg': 0.75 } });
    const fitted = fitAlertToEntry(alert, envelope);
    expect(entryBytes(fitted)).toBeLessThanOrEqual(ALERT_ENTRY_BUDGET_BYTES);
    expect(ALERT_ENTRY_BUDGET_BYTES).toBeLessThan(MAX_PUT_EVENTS_ENTRY_BYTES);
    expect(essentials(fitted)).toEqual(essentials(alert));
    expect(fitted.details.host).toBe('db-1');
    expect(fitted.details['load avg']).toBe(0.75);
    // The beginning of the log is kept, most of what fits of it.
    const log = fitted.details.log as string;
    expect(log.startsWith('LLLL')).toBe(true);
    expect(log.endsWith('…')).toBe(true);
    expect(log.length).toBeGreaterThan(200 * KB);
    const marker = markerOf(fitted);
    const { [TRUNCATION_MARKER]: _, ...unmarked } = fitted.details;
    expect(marker).toEqual({
      droppedBytes: bytes(alert) - bytes({ ...fitted, details: unmarked }),
      removed: [],
      shortened: ['details.log'],
    });
    expect(marker?.droppedBytes).toBeGreaterThan(300 * KB - ALERT_ENTRY_BUDGET_BYTES);
    expect(AlertSchema.parse(fitted)).toEqual(fitted);
  });

  it('takes out the largest details first, and is deterministic', () => {
    const alert = makeAlert({
      details: {
        small: 's'.repeat(10),
        rows: Array.from({ length: 4000 }, (_, i) => ({ i, v: 'v'.repeat(40) })),
        text: 't'.repeat(100 * KB),
      },
    });
    const fitted = fitAlertToEntry(alert, envelope);
    expect(fitted).toEqual(fitAlertToEntry(structuredClone(alert), envelope));
    expect(entryBytes(fitted)).toBeLessThanOrEqual(ALERT_ENTRY_BUDGET_BYTES);
    expect(fitted.details.small).toBe('s'.repeat(10));
    expect(fitted.details.text).toBe(alert.details.text);
    // The largest, `rows`, is kept as the beginning of its JSON text.
    expect(typeof fitted.details.rows).toBe('string');
    expect((fitted.details.rows as string).startsWith('[{"i":0,"v":"vvvv')).toBe(true);
    expect(markerOf(fitted)).toMatchObject({ removed: [], shortened: ['details.rows'] });
  });

  it('of equal details, cuts the later one', () => {
    const alert = makeAlert({ details: { a: 'a'.repeat(130 * KB), b: 'b'.repeat(130 * KB) } });
    const fitted = fitAlertToEntry(alert, envelope);
    expect(entryBytes(fitted)).toBeLessThanOrEqual(ALERT_ENTRY_BUDGET_BYTES);
    expect(fitted.details.a).toBe(alert.details.a);
    expect(markerOf(fitted)).toMatchObject({ shortened: ['details.b'] });
  });

  it('then drops the largest links and images, keeping the others in their order', () => {
    const url = (n: number, size: number) =>
      `https://example.com/${String(n).padStart(2, '0')}?q=${'q'.repeat(size)}`;
    const alert = makeAlert({
      links: [
        { href: 'https://runbooks.example.com/db', text: 'Runbook' },
        ...Array.from({ length: 40 }, (_, i) => ({ href: url(i, 8 * KB) })),
      ],
      images: [{ src: url(99, 30 * KB) }],
      clientUrl: 'https://monitoring.example.com',
    });
    const fitted = fitAlertToEntry(alert, envelope);
    expect(entryBytes(fitted)).toBeLessThanOrEqual(ALERT_ENTRY_BUDGET_BYTES);
    expect(essentials(fitted)).toEqual(essentials(alert));
    expect(fitted.images).toEqual([]);
    expect(fitted.links[0]).toEqual({ href: 'https://runbooks.example.com/db', text: 'Runbook' });
    expect(fitted.links.length).toBeGreaterThan(20);
    expect(fitted.links).toEqual(alert.links.slice(0, fitted.links.length));
    expect(fitted.clientUrl).toBe('https://monitoring.example.com');
    const marker = markerOf(fitted);
    expect(marker?.removed[0]).toBe('images[0]');
    // Links of one size: the last ones go first.
    expect(marker?.removed[1]).toBe('links[40]');
    expect(AlertSchema.parse(fitted)).toEqual(fitted);
  });

  it('always fits, keeping summary, dedup key, severity and source, whatever the free-form parts hold', () => {
    const part = fc.oneof(
      fc.string({ unit: 'binary', minLength: 0, maxLength: 40 * KB }),
      fc.string({ unit: fc.constantFrom('"', '\\', '\u0001', 'é', '😀', 'a'), maxLength: 30 * KB }),
      fc.array(fc.string({ maxLength: 2 * KB }), { maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), part, { maxKeys: 30 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 12 * KB }),
        (details, linkCount, linkSize) => {
          const alert = makeAlert({
            summary: '😀'.repeat(512),
            details,
            links: Array.from({ length: linkCount }, (_, i) => ({
              href: `https://e.com/${i}/${'p'.repeat(linkSize)}`,
            })),
          });
          const fitted = fitAlertToEntry(alert, envelope);
          expect(entryBytes(fitted)).toBeLessThanOrEqual(ALERT_ENTRY_BUDGET_BYTES);
          expect(essentials(fitted)).toEqual(essentials(alert));
          if (fitted !== alert) expect(markerOf(fitted)?.droppedBytes).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
