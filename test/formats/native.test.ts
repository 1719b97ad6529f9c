import { describe, expect, it } from 'vitest';
import { alertFromEvent } from '#app/alert-event';
import { parseConfig } from '#core/config';
import { ValidationError } from '#core/errors';
import { nativeToAlert } from '#formats/native';
import { teamConfig } from '../support/team.ts';
import { badFields, expectCanonical, fieldErrors } from './helpers.ts';

const envelope = {
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  time: '2024-05-01T12:00:05Z',
  source: 'com.example.orders',
};

const minimal = { service: 'checkout', dedupKey: 'orders-queue-depth', summary: 'Order queue is backing up' };

describe('native Klaxon alerts on the bus', () => {
  it('fills what a producer leaves out from the EventBridge envelope and the defaults', () => {
    const alert = nativeToAlert(minimal, envelope);
    expect(alert).toEqual({
      eventKey: 'native:6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      service: 'checkout',
      dedupKey: 'orders-queue-depth',
      action: 'trigger',
      summary: 'Order queue is backing up',
      source: 'com.example.orders',
      severity: 'error',
      receivedAt: '2024-05-01T12:00:05.000Z',
      details: {},
      links: [],
      images: [],
      origin: 'native',
    });
    expectCanonical(alert);
  });

  it('keeps what the producer set', () => {
    const alert = nativeToAlert(
      {
        ...minimal,
        eventKey: 'orders:42',
        action: 'resolve',
        severity: 'warning',
        source: 'orders-worker-3',
        occurredAt: '2024-05-01T11:58:00+02:00',
        receivedAt: '2024-05-01T12:00:00Z',
        details: { depth: 1200 },
        description: 'Queue depth 1200 (limit 1000)\nsince the 11:55 deploy',
        links: [{ href: 'https://orders.example.com/queue', text: 'Queue' }],
      },
      envelope,
    );
    expect(alert).toMatchObject({
      description: 'Queue depth 1200 (limit 1000)\nsince the 11:55 deploy',
      eventKey: 'orders:42',
      action: 'resolve',
      severity: 'warning',
      source: 'orders-worker-3',
      occurredAt: '2024-05-01T09:58:00.000Z',
      receivedAt: '2024-05-01T12:00:00.000Z',
      details: { depth: 1200 },
      links: [{ href: 'https://orders.example.com/queue', text: 'Queue' }],
      origin: 'native',
    });
  });

  it('normalizes timestamps with an offset to UTC with milliseconds, so they sort as text', () => {
    const at = (occurredAt: string, receivedAt?: string) =>
      nativeToAlert({ ...minimal, occurredAt, ...(receivedAt ? { receivedAt } : {}) }, envelope);
    const alert = at('2026-11-25T10:00:00+02:00', '2026-11-25T09:00:30.5-01:00');
    expect(alert.occurredAt).toBe('2026-11-25T08:00:00.000Z');
    expect(alert.receivedAt).toBe('2026-11-25T10:00:30.500Z');
    expectCanonical(alert);
    // As sent, 10:00+02:00 would sort after 09:30Z although it is half an hour earlier.
    const sorted = [at('2026-11-25T09:30:00Z'), at('2026-11-25T10:00:00+02:00')]
      .map((a) => a.occurredAt ?? '')
      .sort();
    expect(sorted).toEqual(['2026-11-25T08:00:00.000Z', '2026-11-25T09:30:00.000Z']);
  });

  it('refuses a timestamp whose UTC instant falls outside years 0001-9999', () => {
    expect(
      badFields(() => nativeToAlert({ ...minimal, occurredAt: '9999-12-31T23:30:00-01:00' }, envelope)),
    ).toEqual(['occurredAt']);
  });

  it('keeps the origin of canonical alerts the ingest function puts on the bus', () => {
    const canonical = {
      eventKey: 'alertmanager:1a30ba71cca2921f:2023-02-06T13:08:45.828Z:firing',
      service: 'checkout',
      dedupKey: '1a30ba71cca2921f',
      action: 'trigger',
      summary: 'BlackBox Probe Failure',
      source: 'https://server.example.org',
      severity: 'critical',
      receivedAt: '2024-05-01T12:00:00.000Z',
      details: {},
      links: [],
      images: [],
      origin: 'alertmanager',
    };
    expect(nativeToAlert(canonical, { ...envelope, source: 'klaxon.ingest' })).toEqual(canonical);
  });

  it('ignores fields it does not know', () => {
    expect(nativeToAlert({ ...minimal, team: 'orders' }, envelope).summary).toBe('Order queue is backing up');
  });

  it('refuses a detail without summary, naming the field', () => {
    const { summary: _, ...withoutSummary } = minimal;
    expect(badFields(() => nativeToAlert(withoutSummary, envelope))).toEqual(['summary']);
  });

  it('has no description for a blank one (as every other format)', () => {
    expect(nativeToAlert({ ...minimal, description: ' \n\t ' }, envelope).description).toBeUndefined();
  });

  it('refuses a description over 1,024 characters, naming it', () => {
    expect(badFields(() => nativeToAlert({ ...minimal, description: 'd'.repeat(1025) }, envelope))).toEqual([
      'description',
    ]);
  });

  // Regression test: a native alert for a service the config does not have (a typo) opened an
  // incident that paged nobody; the event alone names its service, so it is refused by name.
  it('refuses a service the config does not have, naming `service` (before anything is written)', () => {
    const event = (service: string) => ({
      id: '11111111-2222-3333-4444-555555555555',
      source: 'acme.billing',
      'detail-type': 'Klaxon Alert',
      time: '2026-11-26T10:00:00Z',
      detail: { service, dedupKey: 'disk-full', summary: 'Disk 95% full on db-1', severity: 'critical' },
    });
    const config = parseConfig(teamConfig());
    expect(alertFromEvent(event('checkout'), config, '2026-11-26T10:00:00.000Z').service).toBe('checkout');
    const refused = (() => {
      try {
        alertFromEvent(event('chekout'), config, '2026-11-26T10:00:00.000Z');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).errors).toEqual([
      { field: 'service', message: 'no service "chekout" in the config' },
    ]);
  });

  it('refuses a service that is not a slug', () => {
    expect(fieldErrors(() => nativeToAlert({ ...minimal, service: 'Checkout Team' }, envelope))).toEqual([
      { field: 'service', message: 'must be a slug: lowercase letters, digits and dashes, at most 63' },
    ]);
  });

  it('refuses an unknown action or severity', () => {
    expect(
      badFields(() => nativeToAlert({ ...minimal, action: 'snooze', severity: 'fatal' }, envelope)),
    ).toEqual(['action', 'severity']);
  });

  it('refuses a summary over 1024 characters', () => {
    expect(badFields(() => nativeToAlert({ ...minimal, summary: 'x'.repeat(1025) }, envelope))).toEqual([
      'summary',
    ]);
  });
});
