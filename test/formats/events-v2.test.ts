import { describe, expect, it } from 'vitest';
import { ValidationError } from '#core/errors';
import { eventsV2DedupKey, eventsV2ToAlert, parseEventsV2 } from '#formats/events-v2';
import { badFields, ctx, expectCanonical, fieldErrors, fixture, REMOVE, withField } from './helpers.ts';

const trigger = fixture('events-v2-trigger.json');
const acknowledge = fixture('events-v2-acknowledge.json');
const resolve = fixture('events-v2-resolve.json');

const normalize = (body: unknown) => eventsV2ToAlert(parseEventsV2(body), ctx);

describe('PagerDuty Events API v2: trigger', () => {
  it('turns the PagerDuty docs trigger example into a canonical alert with every field mapped', () => {
    const alert = normalize(trigger);
    expect(alert).toEqual({
      eventKey: 'events-v2:req-7f3a9c',
      service: 'checkout',
      dedupKey: 'srv01/mysql',
      action: 'trigger',
      summary: 'DISK at 99% on machine prod-datapipe03.example.com',
      source: 'prod-datapipe03.example.com',
      severity: 'critical',
      occurredAt: '2015-07-17T08:42:58.315Z',
      receivedAt: '2024-05-01T12:00:00.000Z',
      component: 'mysql',
      group: 'prod-datapipe',
      class: 'disk',
      // custom_details as people read them (PagerDuty's "Custom Details"): one line per key.
      description: 'free space: 1%\nping time: 1500ms\nload avg: 0.75',
      details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 },
      links: [{ href: 'http://pagerduty.example.com', text: 'An example link.' }],
      images: [
        {
          src: 'https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1',
          href: 'https://google.com',
          alt: 'An example link with an image',
        },
      ],
      origin: 'events-v2',
      client: 'Sample Monitoring Service',
      clientUrl: 'https://monitoring.service.com',
    });
    expectCanonical(alert);
  });

  it('answers the dedup key the caller sent', () => {
    expect(eventsV2DedupKey(parseEventsV2(trigger), ctx)).toBe('srv01/mysql');
  });

  it('gives a trigger without dedup_key the request id as dedup key, and answers it to the caller', () => {
    const event = parseEventsV2(withField(trigger, 'dedup_key', REMOVE));
    expect(eventsV2DedupKey(event, ctx)).toBe('req-7f3a9c');
    expect(eventsV2ToAlert(event, ctx).dedupKey).toBe('req-7f3a9c');
  });

  it('treats an empty dedup_key on a trigger as absent', () => {
    expect(normalize(withField(trigger, 'dedup_key', '')).dedupKey).toBe('req-7f3a9c');
  });

  it('keeps a minimal trigger (summary, source, severity) valid with empty details, links and images', () => {
    const alert = normalize({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      payload: { summary: 'Disk full', source: 'db-1', severity: 'warning' },
    });
    expect(alert).toEqual({
      eventKey: 'events-v2:req-7f3a9c',
      service: 'checkout',
      dedupKey: 'req-7f3a9c',
      action: 'trigger',
      summary: 'Disk full',
      source: 'db-1',
      severity: 'warning',
      receivedAt: '2024-05-01T12:00:00.000Z',
      details: {},
      links: [],
      images: [],
      origin: 'events-v2',
    });
    expectCanonical(alert);
  });

  it('keeps custom_details that are not an object under details.custom_details', () => {
    expect(normalize(withField(trigger, 'payload.custom_details', 'stack trace here')).details).toEqual({
      custom_details: 'stack trace here',
    });
    expect(normalize(withField(trigger, 'payload.custom_details', [1, 2])).details).toEqual({
      custom_details: [1, 2],
    });
  });

  it.each([
    ['2015-07-17T08:42:58.315+0000', '2015-07-17T08:42:58.315Z'],
    ['2015-07-17T10:42:58.315+02:00', '2015-07-17T08:42:58.315Z'],
    ['2015-07-17T08:42:58Z', '2015-07-17T08:42:58.000Z'],
    ['2015-07-17T08:42:58.315', '2015-07-17T08:42:58.315Z'],
  ])('normalizes payload.timestamp %s to %s', (timestamp, occurredAt) => {
    expect(normalize(withField(trigger, 'payload.timestamp', timestamp)).occurredAt).toBe(occurredAt);
  });

  it('ignores fields PagerDuty or a client adds that Klaxon does not know', () => {
    const body = withField(withField(trigger, 'payload.priority', 'P1'), 'routing_hint', { team: 'db' });
    expect(normalize(body).summary).toBe('DISK at 99% on machine prod-datapipe03.example.com');
  });

  it('keeps the first 50 links and images when a client sends more', () => {
    const links = Array.from({ length: 60 }, (_, i) => ({ href: `https://example.com/${i}` }));
    const images = Array.from({ length: 55 }, (_, i) => ({ src: `https://example.com/${i}.png` }));
    const alert = normalize(withField(withField(trigger, 'links', links), 'images', images));
    expect(alert.links).toHaveLength(50);
    expect(alert.links[49]).toEqual({ href: 'https://example.com/49', text: undefined });
    expect(alert.images).toHaveLength(50);
    expectCanonical(alert);
  });

  it('treats null optional fields as absent, as clients that serialize unset fields send them', () => {
    const alert = normalize({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: null,
      client: null,
      client_url: null,
      links: null,
      images: null,
      payload: {
        summary: 'Disk full',
        source: 'db-1',
        severity: 'error',
        timestamp: null,
        component: null,
        group: null,
        class: null,
        custom_details: null,
      },
    });
    expect(alert.dedupKey).toBe('req-7f3a9c');
    expect(alert.occurredAt).toBeUndefined();
    expect(alert.details).toEqual({});
    expectCanonical(alert);
  });

  it('treats an empty client_url as absent', () => {
    expect(normalize(withField(trigger, 'client_url', '')).clientUrl).toBeUndefined();
  });

  it('accepts routing keys of 1 to 255 characters, not only PagerDuty 32-character keys', () => {
    expect(parseEventsV2(withField(trigger, 'routing_key', 'k')).routing_key).toBe('k');
    expect(parseEventsV2(withField(trigger, 'routing_key', 'k'.repeat(255))).routing_key).toHaveLength(255);
    expect(badFields(() => parseEventsV2(withField(trigger, 'routing_key', 'k'.repeat(256))))).toEqual([
      'routing_key',
    ]);
    expect(badFields(() => parseEventsV2(withField(trigger, 'routing_key', '')))).toEqual(['routing_key']);
  });
});

describe('PagerDuty Events API v2: acknowledge and resolve', () => {
  it('turns an acknowledge without payload into an acknowledge of the dedup key', () => {
    const alert = normalize(acknowledge);
    expect(alert).toEqual({
      eventKey: 'events-v2:req-7f3a9c',
      service: 'checkout',
      dedupKey: 'srv01/mysql',
      action: 'acknowledge',
      summary: 'acknowledge srv01/mysql',
      source: 'events-v2',
      severity: 'info',
      receivedAt: '2024-05-01T12:00:00.000Z',
      details: {},
      links: [],
      images: [],
      origin: 'events-v2',
    });
    expectCanonical(alert);
  });

  it('turns a resolve without payload into a resolve of the dedup key', () => {
    const alert = normalize(resolve);
    expect(alert.action).toBe('resolve');
    expect(alert.summary).toBe('resolve srv01/mysql');
    expect(alert.dedupKey).toBe('srv01/mysql');
    expect(alert.source).toBe('events-v2');
    expect(alert.severity).toBe('info');
    expectCanonical(alert);
  });

  it('uses the fields of a partial payload on resolve and defaults the rest', () => {
    const alert = normalize(withField(resolve, 'payload', { summary: 'Disk has space again' }));
    expect(alert.summary).toBe('Disk has space again');
    expect(alert.source).toBe('events-v2');
    expect(alert.severity).toBe('info');
  });

  it('uses the full payload on resolve when one is sent', () => {
    const body = withField(withField(trigger, 'event_action', 'resolve'), 'dedup_key', 'srv01/mysql');
    const alert = normalize(body);
    expect(alert.action).toBe('resolve');
    expect(alert.summary).toBe('DISK at 99% on machine prod-datapipe03.example.com');
    expect(alert.severity).toBe('critical');
    expect(alert.occurredAt).toBe('2015-07-17T08:42:58.315Z');
  });

  it('accepts a null payload on acknowledge', () => {
    expect(normalize(withField(acknowledge, 'payload', null)).summary).toBe('acknowledge srv01/mysql');
  });
});

describe('PagerDuty Events API v2: bad input names the field', () => {
  it('refuses a trigger without payload.summary', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'payload.summary', REMOVE)))).toEqual([
      { field: 'payload.summary', message: 'summary is required' },
    ]);
  });

  it('refuses a blank payload.summary', () => {
    expect(badFields(() => parseEventsV2(withField(trigger, 'payload.summary', '   ')))).toEqual([
      'payload.summary',
    ]);
  });

  it('refuses a payload.summary over 1024 characters and accepts exactly 1024', () => {
    expect(normalize(withField(trigger, 'payload.summary', 'x'.repeat(1024))).summary).toHaveLength(1024);
    expect(badFields(() => parseEventsV2(withField(trigger, 'payload.summary', 'x'.repeat(1025))))).toEqual([
      'payload.summary',
    ]);
  });

  it('cuts a payload.source over 255 characters to 255, as it does component, group and class', () => {
    const long = 's'.repeat(300);
    for (const body of [trigger, withField(trigger, 'event_action', 'resolve')]) {
      const alert = normalize(withField(body, 'payload.source', long));
      expect(alert.source).toBe(`${'s'.repeat(254)}…`);
      expectCanonical(alert);
    }
    expect(normalize(withField(trigger, 'payload.component', long)).component).toBe(`${'s'.repeat(254)}…`);
  });

  it('refuses a trigger without payload.source', () => {
    expect(badFields(() => parseEventsV2(withField(trigger, 'payload.source', REMOVE)))).toEqual([
      'payload.source',
    ]);
  });

  it('refuses a severity PagerDuty does not know', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'payload.severity', 'fatal')))).toEqual([
      { field: 'payload.severity', message: 'must be one of critical, error, warning, info' },
    ]);
  });

  it('refuses a trigger without severity', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'payload.severity', REMOVE)))).toEqual([
      { field: 'payload.severity', message: 'severity is required' },
    ]);
  });

  it('refuses a severity on resolve that PagerDuty does not know', () => {
    expect(badFields(() => parseEventsV2(withField(resolve, 'payload', { severity: 'bad' })))).toEqual([
      'payload.severity',
    ]);
  });

  it('refuses an event_action other than trigger, acknowledge, resolve', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'event_action', 'snooze')))).toEqual([
      { field: 'event_action', message: 'event_action must be one of trigger, acknowledge, resolve' },
    ]);
  });

  it('refuses an event without event_action', () => {
    expect(badFields(() => parseEventsV2(withField(trigger, 'event_action', REMOVE)))).toEqual([
      'event_action',
    ]);
  });

  it('refuses an acknowledge without dedup_key', () => {
    expect(fieldErrors(() => parseEventsV2(withField(acknowledge, 'dedup_key', REMOVE)))).toEqual([
      { field: 'dedup_key', message: 'dedup_key is required for acknowledge and resolve' },
    ]);
  });

  it('refuses a resolve with an empty dedup_key', () => {
    expect(badFields(() => parseEventsV2(withField(resolve, 'dedup_key', '')))).toEqual(['dedup_key']);
  });

  it('refuses a dedup_key over 255 characters', () => {
    expect(badFields(() => parseEventsV2(withField(trigger, 'dedup_key', 'd'.repeat(256))))).toEqual([
      'dedup_key',
    ]);
  });

  it('refuses a trigger without payload', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'payload', REMOVE)))).toEqual([
      { field: 'payload', message: 'payload is required' },
    ]);
  });

  it('refuses an event without routing_key', () => {
    expect(fieldErrors(() => parseEventsV2(withField(trigger, 'routing_key', REMOVE)))).toEqual([
      { field: 'routing_key', message: 'routing_key is required' },
    ]);
  });

  it('refuses a payload.timestamp that is not a date-time', () => {
    expect(badFields(() => parseEventsV2(withField(trigger, 'payload.timestamp', 'yesterday')))).toEqual([
      'payload.timestamp',
    ]);
    expect(
      badFields(() => parseEventsV2(withField(trigger, 'payload.timestamp', '2015-02-30T08:42:58Z'))),
    ).toEqual(['payload.timestamp']);
  });

  it('refuses links, images and client_url that are not http(s) URLs', () => {
    expect(
      badFields(() => parseEventsV2(withField(trigger, 'links', [{ href: 'javascript:alert(1)' }]))),
    ).toEqual(['links.0.href']);
    expect(badFields(() => parseEventsV2(withField(trigger, 'images', [{ src: 'not a url' }])))).toEqual([
      'images.0.src',
    ]);
    expect(badFields(() => parseEventsV2(withField(trigger, 'client_url', 'monitoring')))).toEqual([
      'client_url',
    ]);
  });

  it('names every bad field at once', () => {
    const body = withField(withField(trigger, 'payload.summary', REMOVE), 'payload.severity', 'fatal');
    expect(badFields(() => parseEventsV2(body))).toEqual(['payload.summary', 'payload.severity']);
  });

  it('says what was wrong in the error message', () => {
    expect(() => parseEventsV2(withField(trigger, 'payload.severity', 'fatal'))).toThrow(ValidationError);
    expect(() => parseEventsV2(withField(trigger, 'payload.severity', 'fatal'))).toThrow(
      'invalid Events API v2 event: payload.severity',
    );
  });

  it('refuses a body that is not a JSON object', () => {
    expect(badFields(() => parseEventsV2('trigger'))).toEqual(['(root)']);
    expect(badFields(() => parseEventsV2(null))).toEqual(['(root)']);
  });
});
