import { describe, expect, it } from 'vitest';
import { grafanaToAlerts, parseGrafana } from '#formats/grafana';
import { labelsFingerprint } from '#formats/prometheus';
import { badFields, ctx, expectCanonical, fieldErrors, fixture, REMOVE, withField } from './helpers.ts';

const firing = fixture('grafana-firing.json');

const normalize = (body: unknown) => grafanaToAlerts(parseGrafana(body), ctx);
const first = (body: unknown) => {
  const [alert] = normalize(body);
  if (alert === undefined) throw new Error('no alert');
  return alert;
};

describe('Grafana webhook: mapping', () => {
  it('turns the Grafana docs example into one trigger per alert', () => {
    const alerts = normalize(firing);
    expect(alerts.map((a) => [a.dedupKey, a.action, a.summary])).toEqual([
      ['c6eadffa33fcdf37', 'trigger', 'This alert was triggered for zone us-1'],
      ['bc97ff14869b13e3', 'trigger', 'This alert was triggered for zone eu-1'],
    ]);
    for (const alert of alerts) expectCanonical(alert);
  });

  it('maps every field of a firing alert', () => {
    expect(first(firing)).toEqual({
      eventKey: 'grafana:c6eadffa33fcdf37:2021-10-12T09:51:03.157076+02:00:firing',
      service: 'checkout',
      dedupKey: 'c6eadffa33fcdf37',
      action: 'trigger',
      summary: 'This alert was triggered for zone us-1',
      source: 'play.grafana.org',
      severity: 'error',
      occurredAt: '2021-10-12T07:51:03.157Z',
      receivedAt: '2024-05-01T12:00:00.000Z',
      class: 'High memory usage',
      description: 'The system has high memory usage',
      details: {
        labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
        annotations: {
          description: 'The system has high memory usage',
          runbook_url: 'https://myrunbook.com/runbook/1234',
          summary: 'This alert was triggered for zone us-1',
        },
        values: { B: 44.23943737541908, C: 1 },
        valueString: null,
        orgId: 1,
        groupKey: '{}:{}',
        receiver: 'My Super Webhook',
        externalURL: 'https://play.grafana.org/',
        endsAt: null,
      },
      links: [
        { href: 'https://play.grafana.org/alerting/1afz29v7z/edit', text: 'Alert rule' },
        { href: 'https://myrunbook.com/runbook/1234', text: 'Runbook' },
        {
          href: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
          text: 'Silence',
        },
      ],
      images: [],
      origin: 'grafana',
    });
  });

  it('turns a resolved alert into a resolve of the same dedup key, with its own event key', () => {
    const body = withField(
      withField(firing, 'alerts.0.status', 'resolved'),
      'alerts.0.endsAt',
      '2021-10-12T10:01:03.157076+02:00',
    );
    const alert = first(body);
    expect(alert.action).toBe('resolve');
    expect(alert.dedupKey).toBe('c6eadffa33fcdf37');
    expect(alert.eventKey).toBe('grafana:c6eadffa33fcdf37:2021-10-12T09:51:03.157076+02:00:resolved');
    expect(alert.details.endsAt).toBe('2021-10-12T08:01:03.157Z');
  });

  it('turns the panel screenshot into an image and dashboard and panel URLs into links', () => {
    let body = withField(
      firing,
      'alerts.0.imageURL',
      'https://grafana.example.org/public/img/attachments/abc.png',
    );
    body = withField(body, 'alerts.0.dashboardURL', 'https://grafana.example.org/d/abc');
    body = withField(body, 'alerts.0.panelURL', 'https://grafana.example.org/d/abc?viewPanel=2');
    const alert = first(body);
    expect(alert.images).toEqual([
      {
        src: 'https://grafana.example.org/public/img/attachments/abc.png',
        href: 'https://grafana.example.org/d/abc?viewPanel=2',
        alt: 'High memory usage',
      },
    ]);
    expect(alert.links.map((l) => l.text)).toEqual([
      'Alert rule',
      'Runbook',
      'Dashboard',
      'Panel',
      'Silence',
    ]);
    expect(alert.links[2]).toEqual({ href: 'https://grafana.example.org/d/abc', text: 'Dashboard' });
    expectCanonical(alert);
  });

  it('leaves out the empty dashboard and panel URLs Grafana sends for rules without a dashboard', () => {
    expect(first(firing).links.map((l) => l.text)).toEqual(['Alert rule', 'Runbook', 'Silence']);
  });

  it('keeps the evaluated values and their text in details', () => {
    const alert = first(withField(firing, 'alerts.0.valueString', "[ metric='' labels={} value=14151.33 ]"));
    expect(alert.details.values).toEqual({ B: 44.23943737541908, C: 1 });
    expect(alert.details.valueString).toBe("[ metric='' labels={} value=14151.33 ]");
    // What a responder reads first: the rule's description, then the value that fired it.
    expect(alert.description).toBe(
      "The system has high memory usage\nValue: [ metric='' labels={} value=14151.33 ]",
    );
    const bare = first(
      withField(withField(firing, 'alerts.0.annotations', {}), 'alerts.0.valueString', 'v=1'),
    );
    expect(bare.description).toBe('Value: v=1');
  });

  it('uses a stable hash of the sorted labels as dedup key when there is no fingerprint', () => {
    const alert = first(withField(firing, 'alerts.0.fingerprint', REMOVE));
    const reordered = first(
      withField(withField(firing, 'alerts.0.fingerprint', ''), 'alerts.0.labels', {
        zone: 'us-1',
        alertname: 'High memory usage',
        team: 'blue',
      }),
    );
    expect(alert.dedupKey).toBe(
      labelsFingerprint({ alertname: 'High memory usage', team: 'blue', zone: 'us-1' }),
    );
    expect(reordered.dedupKey).toBe(alert.dedupKey);
    expect(alert.eventKey).toBe(`grafana:${alert.dedupKey}:2021-10-12T09:51:03.157076+02:00:firing`);
  });

  it('groups by the Grafana folder, else by job', () => {
    expect(first(withField(firing, 'alerts.0.labels.grafana_folder', 'Infra')).group).toBe('Infra');
    expect(first(withField(firing, 'alerts.0.labels.job', 'node')).group).toBe('node');
  });

  it('maps the severity label like Alertmanager does', () => {
    expect(first(withField(firing, 'alerts.0.labels.severity', 'page')).severity).toBe('critical');
    expect(first(withField(firing, 'alerts.0.labels.severity', 'low')).severity).toBe('info');
  });

  it('takes the source from instance, else the Grafana host, else "grafana"', () => {
    expect(first(withField(firing, 'alerts.0.labels.instance', 'node-3:9100')).source).toBe('node-3:9100');
    expect(first(withField(firing, 'externalURL', '')).source).toBe('grafana');
  });

  it('truncates a long summary to 1024 characters', () => {
    const alert = first(withField(firing, 'alerts.0.annotations.summary', 's'.repeat(2000)));
    expect(alert.summary).toHaveLength(1024);
    expect(alert.summary.endsWith('…')).toBe(true);
  });

  it('accepts a payload without the fields Grafana plans to remove, and with null values', () => {
    let body = withField(firing, 'title', REMOVE);
    body = withField(body, 'state', REMOVE);
    body = withField(body, 'message', REMOVE);
    body = withField(body, 'alerts.0.values', null);
    body = withField(body, 'alerts.0.dashboardURL', REMOVE);
    expect(first(body).details.values).toBeNull();
  });
});

describe('Grafana webhook: bad input names the field', () => {
  it('refuses an alert status other than firing or resolved', () => {
    expect(fieldErrors(() => parseGrafana(withField(firing, 'alerts.1.status', 'alerting')))).toEqual([
      { field: 'alerts.1.status', message: 'must be firing or resolved' },
    ]);
  });

  it('refuses a legacy (pre-8) Grafana alert body, which has no alerts[]', () => {
    const legacy = {
      title: '[Alerting] Test',
      ruleId: 1,
      ruleName: 'Test',
      state: 'alerting',
      evalMatches: [],
    };
    expect(badFields(() => parseGrafana(legacy))).toEqual(['status', 'alerts']);
  });

  it('refuses a startsAt that is not a date-time', () => {
    expect(badFields(() => parseGrafana(withField(firing, 'alerts.0.startsAt', '12/10/2021')))).toEqual([
      'alerts.0.startsAt',
    ]);
  });

  it('refuses an orgId that is not a number', () => {
    expect(badFields(() => parseGrafana(withField(firing, 'orgId', 'main')))).toEqual(['orgId']);
  });
});
