import { describe, expect, it } from 'vitest';
import { alertmanagerToAlerts, parseAlertmanager } from '#formats/alertmanager';
import { labelsFingerprint } from '#formats/prometheus';
import { badFields, ctx, expectCanonical, fieldErrors, fixture, REMOVE, withField } from './helpers.ts';

const firing = fixture('alertmanager-firing.json');
const resolved = fixture('alertmanager-resolved.json');

const normalize = (body: unknown) => alertmanagerToAlerts(parseAlertmanager(body), ctx);
const only = (body: unknown) => {
  const alerts = normalize(body);
  expect(alerts).toHaveLength(1);
  const [alert] = alerts;
  if (alert === undefined) throw new Error('no alert');
  return alert;
};

describe('Alertmanager webhook: mapping', () => {
  it('turns a firing notification into a trigger with every field mapped', () => {
    const alert = only(firing);
    expect(alert).toEqual({
      eventKey: 'alertmanager:1a30ba71cca2921f:2023-02-06T13:08:45.828Z:firing',
      service: 'checkout',
      dedupKey: '1a30ba71cca2921f',
      action: 'trigger',
      summary: 'BlackBox Probe Failure: https://server.example.org',
      source: 'https://server.example.org',
      severity: 'critical',
      occurredAt: '2023-02-06T13:08:45.828Z',
      receivedAt: '2024-05-01T12:00:00.000Z',
      group: 'http_checks',
      class: 'ProbeFailure',
      // The summary is the title; the description is what the rule says beyond it.
      description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
      details: {
        labels: {
          alertname: 'ProbeFailure',
          instance: 'https://server.example.org',
          job: 'http_checks',
          monitor: 'master',
          severity: 'critical',
        },
        annotations: {
          description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
          summary: 'BlackBox Probe Failure: https://server.example.org',
        },
        groupKey: '{}/{severity="critical"}:{alertname="ProbeFailure"}',
        receiver: 'sms',
        externalURL: 'http://prometheus.example.org:9093',
        endsAt: null,
      },
      links: [
        {
          href: 'http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1',
          text: 'Source',
        },
        { href: 'http://prometheus.example.org:9093/#/alerts?receiver=sms', text: 'Alertmanager' },
        {
          href: `http://prometheus.example.org:9093/#/silences/new?filter=${encodeURIComponent(
            '{alertname="ProbeFailure",instance="https://server.example.org",job="http_checks",monitor="master",severity="critical"}',
          )}`,
          text: 'Silence',
        },
      ],
      images: [],
      origin: 'alertmanager',
    });
    expectCanonical(alert);
  });

  it('turns a resolved notification into a resolve of the same dedup key', () => {
    const alert = only(resolved);
    expect(alert.action).toBe('resolve');
    expect(alert.summary).toBe('some description');
    expect(alert.source).toBe('localhost:9090');
    expect(alert.severity).toBe('error');
    expect(alert.occurredAt).toBe('2018-08-03T07:52:26.739Z');
    expect(alert.details.endsAt).toBe('2018-08-03T07:56:26.739Z');
    expectCanonical(alert);
  });

  it('computes the fingerprint Alertmanager would when an older Alertmanager sends none', () => {
    const alert = only(resolved);
    const labels = { alertname: 'Test', dc: 'eu-west-1', instance: 'localhost:9090', job: 'prometheus24' };
    expect(alert.dedupKey).toBe(labelsFingerprint(labels));
    expect(alert.eventKey).toBe(
      `alertmanager:${labelsFingerprint(labels)}:2018-08-03T09:52:26.739266876+02:00:resolved`,
    );
  });

  it('gives repeat sends of the same firing alert the same event key, and its resolution another', () => {
    const first = only(firing);
    const repeat = only(withField(firing, 'groupKey', 'regrouped'));
    const resolution = only(
      withField(withField(firing, 'alerts.0.status', 'resolved'), 'alerts.0.endsAt', '2023-02-06T13:20:00Z'),
    );
    expect(repeat.eventKey).toBe(first.eventKey);
    expect(resolution.eventKey).toBe('alertmanager:1a30ba71cca2921f:2023-02-06T13:08:45.828Z:resolved');
    expect(resolution.dedupKey).toBe(first.dedupKey);
  });

  it('gives a new firing of the same alert (new startsAt) a new event key on the same dedup key', () => {
    const again = only(withField(firing, 'alerts.0.startsAt', '2023-02-07T08:00:00Z'));
    expect(again.eventKey).toBe('alertmanager:1a30ba71cca2921f:2023-02-07T08:00:00Z:firing');
    expect(again.dedupKey).toBe('1a30ba71cca2921f');
  });

  it('makes one alert per entry of alerts[]', () => {
    const body = parseAlertmanager(firing);
    const second = { ...body.alerts[0], fingerprint: 'ffff000011112222', status: 'resolved' };
    const alerts = normalize({ ...body, alerts: [...body.alerts, second] });
    expect(alerts.map((a) => [a.dedupKey, a.action])).toEqual([
      ['1a30ba71cca2921f', 'trigger'],
      ['ffff000011112222', 'resolve'],
    ]);
  });

  it('makes no alert from an empty alerts[]', () => {
    expect(normalize(withField(firing, 'alerts', []))).toEqual([]);
  });
});

describe('Alertmanager webhook: summary', () => {
  it('uses annotations.description when there is no summary (then it is not also the description)', () => {
    const alert = only(withField(firing, 'alerts.0.annotations.summary', REMOVE));
    expect(alert.summary).toBe(
      'Instance https://server.example.org has been down for over 5m. Job: http_checks',
    );
    expect(alert.description).toBeUndefined();
  });

  it('cuts a long description to 1,024 characters (the canonical limit)', () => {
    const alert = only(withField(firing, 'alerts.0.annotations.description', 'd'.repeat(3000)));
    expect(alert.description).toBe(`${'d'.repeat(1023)}…`);
    expectCanonical(alert);
  });

  it('uses the alert name and its labels when there are no annotations', () => {
    expect(only(withField(firing, 'alerts.0.annotations', {})).summary).toBe(
      'ProbeFailure {instance="https://server.example.org", job="http_checks", monitor="master", severity="critical"}',
    );
  });

  it('skips a blank summary annotation', () => {
    expect(only(withField(firing, 'alerts.0.annotations.summary', '  ')).summary).toBe(
      'Instance https://server.example.org has been down for over 5m. Job: http_checks',
    );
  });

  it('truncates a long summary to 1024 characters with an ellipsis', () => {
    const alert = only(withField(firing, 'alerts.0.annotations.summary', 'y'.repeat(5000)));
    expect(alert.summary).toHaveLength(1024);
    expect(alert.summary).toBe(`${'y'.repeat(1023)}…`);
    expectCanonical(alert);
  });
});

describe('Alertmanager webhook: severity label', () => {
  it.each([
    ['critical', 'critical'],
    ['CRITICAL', 'critical'],
    ['page', 'critical'],
    ['error', 'error'],
    ['high', 'error'],
    ['warning', 'warning'],
    ['warn', 'warning'],
    ['medium', 'warning'],
    ['info', 'info'],
    ['low', 'info'],
    ['none', 'info'],
    ['P1', 'error'],
    ['', 'error'],
  ])('maps severity="%s" to %s', (label, severity) => {
    expect(only(withField(firing, 'alerts.0.labels.severity', label)).severity).toBe(severity);
  });

  it('treats an alert without a severity label as error', () => {
    expect(only(withField(firing, 'alerts.0.labels.severity', REMOVE)).severity).toBe('error');
  });
});

describe('Alertmanager webhook: source, component, group, class', () => {
  it('takes the source from instance, then job, then the Alertmanager host, then "alertmanager"', () => {
    const noInstance = withField(firing, 'alerts.0.labels.instance', REMOVE);
    const noJob = withField(noInstance, 'alerts.0.labels.job', REMOVE);
    const noUrl = withField(noJob, 'externalURL', REMOVE);
    expect(only(firing).source).toBe('https://server.example.org');
    expect(only(noInstance).source).toBe('http_checks');
    expect(only(noJob).source).toBe('prometheus.example.org:9093');
    expect(only(noUrl).source).toBe('alertmanager');
  });

  it('takes component from the component, service or container label', () => {
    expect(only(withField(firing, 'alerts.0.labels.container', 'nginx')).component).toBe('nginx');
    expect(only(withField(firing, 'alerts.0.labels.service', 'api')).component).toBe('api');
    const both = withField(
      withField(firing, 'alerts.0.labels.service', 'api'),
      'alerts.0.labels.component',
      'db',
    );
    expect(only(both).component).toBe('db');
    expect(only(firing).component).toBeUndefined();
  });

  it('truncates labels used as source, group and class to 255 characters', () => {
    const long = 'z'.repeat(300);
    const alert = only(
      withField(withField(firing, 'alerts.0.labels.instance', long), 'alerts.0.labels.job', long),
    );
    expect(alert.source).toHaveLength(255);
    expect(alert.group).toHaveLength(255);
    expectCanonical(alert);
  });
});

describe('Alertmanager webhook: links', () => {
  it('adds the runbook_url annotation as a Runbook link', () => {
    const alert = only(
      withField(firing, 'alerts.0.annotations.runbook_url', 'https://runbooks.example.org/probe'),
    );
    expect(alert.links).toContainEqual({ href: 'https://runbooks.example.org/probe', text: 'Runbook' });
  });

  it('drops a generatorURL that is not an http(s) URL instead of refusing the alert', () => {
    const alert = only(withField(firing, 'alerts.0.generatorURL', '/graph?g0.expr=up'));
    expect(alert.links.map((l) => l.text)).toEqual(['Alertmanager', 'Silence']);
    expectCanonical(alert);
  });

  it('builds Alertmanager links without a double slash when externalURL ends in /', () => {
    const alert = only(withField(firing, 'externalURL', 'https://am.example.org/'));
    expect(alert.links[1]).toEqual({
      href: 'https://am.example.org/#/alerts?receiver=sms',
      text: 'Alertmanager',
    });
  });
});

describe('Alertmanager webhook: lenient where Alertmanager varies', () => {
  it("accepts Go's zero time as endsAt of a firing alert", () => {
    expect(only(firing).details.endsAt).toBeNull();
  });

  it('accepts null labels maps and annotations', () => {
    const alert = only(withField(withField(firing, 'alerts.0.annotations', null), 'commonAnnotations', null));
    expect(alert.details.annotations).toEqual({});
  });

  it('accepts fields it does not know', () => {
    const alert = only(withField(withField(firing, 'alerts.0.extra', 1), 'newTopLevel', { a: 1 }));
    expect(alert.dedupKey).toBe('1a30ba71cca2921f');
  });

  it('keeps the number of truncated alerts when Alertmanager dropped some', () => {
    expect(only(withField(firing, 'truncatedAlerts', 3)).details.truncatedAlerts).toBe(3);
  });
});

describe('Alertmanager webhook: bad input names the field', () => {
  it('refuses payload version "3"', () => {
    expect(fieldErrors(() => parseAlertmanager(withField(firing, 'version', '3')))).toEqual([
      {
        field: 'version',
        message: 'unsupported version "3": only Alertmanager webhook payload version "4" is supported',
      },
    ]);
  });

  it('refuses a payload without version', () => {
    expect(badFields(() => parseAlertmanager(withField(firing, 'version', REMOVE)))).toEqual(['version']);
  });

  it('refuses an alert status other than firing or resolved', () => {
    expect(fieldErrors(() => parseAlertmanager(withField(firing, 'alerts.0.status', 'pending')))).toEqual([
      { field: 'alerts.0.status', message: 'must be firing or resolved' },
    ]);
  });

  it('refuses an alert without startsAt, or with one that is not a date-time', () => {
    expect(badFields(() => parseAlertmanager(withField(firing, 'alerts.0.startsAt', REMOVE)))).toEqual([
      'alerts.0.startsAt',
    ]);
    expect(badFields(() => parseAlertmanager(withField(firing, 'alerts.0.startsAt', 'now')))).toEqual([
      'alerts.0.startsAt',
    ]);
  });

  it('refuses a label value that is not a string', () => {
    expect(badFields(() => parseAlertmanager(withField(firing, 'alerts.0.labels.severity', 3)))).toEqual([
      'alerts.0.labels.severity',
    ]);
  });

  it('refuses a payload without alerts', () => {
    expect(fieldErrors(() => parseAlertmanager(withField(firing, 'alerts', REMOVE)))).toEqual([
      { field: 'alerts', message: 'alerts is required' },
    ]);
  });

  it('refuses a top-level status other than firing or resolved', () => {
    expect(badFields(() => parseAlertmanager(withField(firing, 'status', 'ok')))).toEqual(['status']);
  });
});

describe('labelsFingerprint', () => {
  // Test vectors of labelSetToFingerprint in github.com/prometheus/common/model/signature_test.go.
  it.each([
    [{}, 14695981039346656037n],
    [{ name: 'garland, briggs', fear: 'love is not enough' }, 5799056148416392346n],
    [
      {
        'first-label': 'first-label-value',
        'second-label': 'second-label-value',
        'third-label': 'third-label-value',
      },
      13843036195897128121n,
    ],
  ])('matches the Prometheus fingerprint of %o', (labels, expected) => {
    expect(labelsFingerprint(labels)).toBe(expected.toString(16).padStart(16, '0'));
  });

  it('does not depend on label order', () => {
    expect(labelsFingerprint({ a: '1', b: '2' })).toBe(labelsFingerprint({ b: '2', a: '1' }));
  });
});
