import { describe, expect, it } from 'vitest';
import {
  type ConfirmPageInput,
  confirmDigestPage,
  confirmPage,
  digestDonePage,
  escapeHtml,
  type IncidentPageInput,
  incidentPage,
  REFUSAL_REASONS,
  refusedPage,
  resultPage,
} from '#http/ack-pages';

const input: ConfirmPageInput = {
  incidentTitle: 'Disk 95% full on db-1',
  serviceName: 'Checkout API',
  severity: 'SEV-1',
  status: 'triggered',
  action: 'ack',
  responderName: 'Alice',
  formAction: './7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg',
  ackTimeoutMinutes: 30,
  monitoringMinutes: 15,
};

/** The text a person reads: tags dropped, whitespace collapsed, entities kept. */
function visibleText(html: string): string {
  const body = html.slice(html.indexOf('<body>'));
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the "acknowledge all" page of a digest', () => {
  const digest = {
    count: 12,
    sentAt: '10:15',
    responderName: 'Alice <ops>',
    formAction: './abcdefgh2345.g.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg',
  };

  it('asks to confirm, with the count and when the digest was sent, and posts back to the link', () => {
    const html = confirmDigestPage(digest);
    expect(html).toContain(`<form method="post" action="${digest.formAction}">`);
    expect(html).not.toContain('name="from"');
    const text = visibleText(html);
    expect(text).toContain('Acknowledge all 12 incidents?');
    expect(text).toContain('The digest sent at 10:15 covered 12 incidents');
    expect(text).toContain('left as they are');
    expect(text).toContain('You act as Alice &lt;ops&gt;');
  });

  it('after a request that did not finish, offers to go on from where it stopped, with what failed', () => {
    const html = confirmDigestPage({ ...digest, progress: { from: 8, retry: [] } });
    expect(html).toContain('<input type="hidden" name="from" value="8">');
    expect(html).not.toContain('name="retry"');
    expect(visibleText(html)).toContain('8 of 12 done');
    expect(visibleText(html)).toContain('Go on to acknowledge the other 4');
    const failed = confirmDigestPage({
      ...digest,
      progress: { from: 8, retry: ['abcdefgh2345', 'qrstuvwx2345'] },
    });
    expect(failed).toContain('<input type="hidden" name="retry" value="abcdefgh2345,qrstuvwx2345">');
    const text = visibleText(failed);
    expect(text).toContain('6 of 12 done');
    expect(text).toContain('2 could not be acknowledged just now and will be tried again');
    expect(text).toContain('with the klaxon CLI: abcdefgh2345, qrstuvwx2345');
    expect(text).toContain('Go on to acknowledge the other 6');
  });

  it('says what the finishing request did', () => {
    const once = visibleText(digestDonePage({ count: 3, continued: false, acknowledged: 1, unchanged: 2 }));
    expect(once).toContain('Acknowledged 1');
    expect(once).toContain('2 of the 3 were already acknowledged');
    expect(
      visibleText(digestDonePage({ count: 3, continued: false, acknowledged: 3, unchanged: 0 })),
    ).toContain('All 3 are acknowledged.');
    expect(
      visibleText(digestDonePage({ count: 3, continued: false, acknowledged: 0, unchanged: 3 })),
    ).toContain('Nothing to acknowledge');
    // After a "go on": only what this request did (the form's position is not a record).
    const last = visibleText(digestDonePage({ count: 12, continued: true, acknowledged: 4, unchanged: 1 }));
    expect(last).toContain('Done');
    expect(last).toContain('This part acknowledged 4 more. 1 were already acknowledged');
    expect(last).toContain('Open the link again to go over all 12');
    expect(last).not.toContain('All 12');
  });
});

describe('escapeHtml', () => {
  it('escapes markup and both quotes', () => {
    expect(escapeHtml(`<script>alert("x")</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;',
    );
    expect(escapeHtml(`it's "quoted" & <b>`)).toBe('it&#39;s &quot;quoted&quot; &amp; &lt;b&gt;');
  });

  it('escapes an ampersand once, so entities in the input show literally', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('leaves ordinary text alone', () => {
    expect(escapeHtml('Überlastung 🔥 on db-1')).toBe('Überlastung 🔥 on db-1');
  });
});

describe('the confirmation page', () => {
  it('posts a form with one Acknowledge button to the given action', () => {
    const html = confirmPage(input);
    expect(html).toContain(`<form method="post" action="${input.formAction}">`);
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain('<button type="submit">Acknowledge</button>');
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\//);
  });

  it('says what acknowledging does, for which incident, acting as whom', () => {
    const text = visibleText(confirmPage(input));
    expect(text).toContain('Acknowledge this incident?');
    expect(text).toContain('Disk 95% full on db-1');
    expect(text).toContain('SEV-1 · Checkout API · triggered');
    expect(text).toContain('stops the escalation');
    expect(text).toContain('You act as Alice');
  });

  it('offers Resolve for resolve links', () => {
    const html = confirmPage({ ...input, action: 'resolve', status: 'acknowledged', monitoringMinutes: 0 });
    expect(html).toContain('<button type="submit">Resolve</button>');
    expect(visibleText(html)).toContain('Resolving closes the incident');
  });

  it('promises only what the service does: its ack timeout and its monitoring period', () => {
    expect(visibleText(confirmPage(input))).toContain(
      'nobody else is paged for now. If it is still not resolved 30 minutes later, you are paged again and escalation restarts.',
    );
    expect(visibleText(confirmPage({ ...input, ackTimeoutMinutes: 0 }))).toContain(
      'nobody else is paged for now. It stays open until it is resolved.',
    );
    const resolve = visibleText(confirmPage({ ...input, action: 'resolve' }));
    expect(resolve).toContain(
      'Klaxon watches it for 15 minutes: if the alert fires again in that time the incident reopens',
    );
    expect(resolve).not.toContain('closes the incident');
  });

  it('notes when the action has already happened', () => {
    expect(visibleText(confirmPage({ ...input, status: 'acknowledged' }))).toContain(
      'This incident is already acknowledged.',
    );
    expect(visibleText(confirmPage({ ...input, action: 'resolve', status: 'resolved' }))).toContain(
      'This incident is already resolved.',
    );
    expect(visibleText(confirmPage(input))).not.toContain('already');
  });

  it('is kept out of search engines and sends no referrer', () => {
    const html = confirmPage(input);
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
  });

  it('escapes every interpolated text', () => {
    const evil = `<script>alert("x")</script>'`;
    const html = confirmPage({
      ...input,
      incidentTitle: evil,
      serviceName: evil,
      responderName: evil,
      formAction: `/a/x" onmouseover="alert(1)`,
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('" onmouseover="');
    expect(html).toContain('action="/a/x&quot; onmouseover=&quot;alert(1)"');
    expect(html.match(/&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&#39;/g)).toHaveLength(3);
  });
});

describe("the incident page (a page's incident link)", () => {
  const incident: IncidentPageInput = {
    incidentTitle: 'Disk 95% full on db-1',
    serviceName: 'Checkout API',
    severity: 'SEV-1',
    status: 'acknowledged',
    alertCount: 3,
    acknowledged: 'Bob at 10:05',
    timeline: [
      '[10:00] [@events-v2] [OPENED] Incident opened: Disk 95% full on db-1 · paged: alice',
      '[10:05] [@bob] [ACKNOWLEDGED] Acknowledged by Bob via link',
    ],
    responderName: 'Alice',
    actions: [{ action: 'resolve', formAction: './7kq2mzx4ab3c.r.alice.tbxw00.Pq0sK2b1xv8yZ3mWc4nLdg' }],
  };

  it('shows the incident, who acknowledged it when, the alert count and the timeline', () => {
    const text = visibleText(incidentPage(incident));
    expect(text).toContain('Disk 95% full on db-1 SEV-1 · Checkout API · acknowledged');
    expect(text).toContain('3 alerts · Acknowledged by Bob at 10:05');
    expect(text).toContain(
      'Timeline [10:00] [@events-v2] [OPENED] Incident opened: Disk 95% full on db-1 · paged: alice [10:05] [@bob] [ACKNOWLEDGED]',
    );
    expect(
      visibleText(incidentPage({ ...incident, alertCount: 1, acknowledged: undefined, actions: [] })),
    ).toContain('1 alert Timeline');
  });

  it("shows the alert's description escaped, its line breaks and indentation kept (pre-wrap), other control characters as spaces", () => {
    const html = incidentPage({
      ...incident,
      description: 'pods:\n  name      ready\n  <script>x</script>\u0007',
    });
    expect(html).toContain('<p class="said">pods:\n  name      ready\n  &lt;script&gt;x&lt;/script&gt; </p>');
    expect(html).toContain('.said{white-space:pre-wrap;');
  });

  it("links only an alert's http(s) links; any other scheme (javascript:, data:) is shown as text", () => {
    const html = incidentPage({
      ...incident,
      source: 'db-1 <prod>',
      links: [
        { href: 'https://runbooks.example.com/a?b=1&c=2', text: 'Runbook' },
        { href: 'javascript:alert(1)', text: 'Click <me>' },
        { href: 'data:text/html,<script>x</script>' },
      ],
    });
    expect(html).toContain('<p>Source: db-1 &lt;prod&gt;</p>');
    expect(html).toContain(
      '<li><a href="https://runbooks.example.com/a?b=1&amp;c=2" rel="noopener noreferrer">Runbook</a></li>',
    );
    expect(html).not.toMatch(/href="(javascript|data):/i);
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('<li>Click &lt;me&gt; (javascript:alert(1))</li>');
  });

  it('states the impact the incident was declared with, escaped; nothing without one', () => {
    const text = visibleText(
      incidentPage({ ...incident, impact: '60% of users affected; SLA at risk: yes' }),
    );
    expect(text).toContain('Acknowledged by Bob at 10:05 Impact: 60% of users affected; SLA at risk: yes');
    expect(incidentPage({ ...incident, impact: 'x <b>' })).toContain('Impact: x &lt;b&gt;');
    expect(visibleText(incidentPage(incident))).not.toContain('Impact');
  });

  it("offers the responder's own links as buttons, each a form that posts; none without actions", () => {
    const html = incidentPage({
      ...incident,
      status: 'triggered',
      actions: [
        { action: 'ack', formAction: '/a/x.a' },
        { action: 'resolve', formAction: '/a/x.r' },
      ],
    });
    expect(html).toContain(
      '<form method="post" action="/a/x.a">\n<button type="submit">Acknowledge</button>',
    );
    expect(html).toContain('<form method="post" action="/a/x.r">\n<button type="submit">Resolve</button>');
    expect(visibleText(html)).toContain('You act as Alice');
    const closed = incidentPage({ ...incident, status: 'resolved', actions: [] });
    expect(closed).not.toMatch(/<form|<button/);
    expect(visibleText(closed)).not.toContain('You act as');
  });

  it('has no scripts or external assets, and is kept out of search engines', () => {
    const html = incidentPage(incident);
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\//);
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
  });

  it('escapes every interpolated text', () => {
    const evil = `<script>alert("x")</script>'`;
    const html = incidentPage({
      ...incident,
      incidentTitle: evil,
      serviceName: evil,
      acknowledged: evil,
      timeline: [evil],
      responderName: evil,
      actions: [{ action: 'resolve', formAction: `/a/x" onmouseover="alert(1)` }],
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('" onmouseover="');
    expect(html).toContain('action="/a/x&quot; onmouseover=&quot;alert(1)"');
    // title element, heading box, meta line, acknowledged, timeline, responder
    expect(html.match(/&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&#39;/g)).toHaveLength(6);
  });
});

describe('the result page', () => {
  it('shows the outcome and the incident', () => {
    const html = resultPage({
      title: 'Acknowledged — escalation stopped',
      message: 'Nobody else will be paged.',
      incidentTitle: 'Disk 95% full on db-1',
    });
    expect(html).toContain('<title>Acknowledged — escalation stopped · Klaxon</title>');
    expect(visibleText(html)).toBe(
      'Acknowledged — escalation stopped Disk 95% full on db-1 Nobody else will be paged.',
    );
  });

  it('works without an incident and escapes its text', () => {
    const html = resultPage({ title: 'Already acknowledged by <b>Alice</b>', message: '"done"' });
    expect(visibleText(html)).toBe('Already acknowledged by &lt;b&gt;Alice&lt;/b&gt; &quot;done&quot;');
  });
});

describe('refusal pages', () => {
  it('give each reason its own title and message, and change nothing', () => {
    const texts = REFUSAL_REASONS.map((reason) => visibleText(refusedPage(reason)));
    expect(new Set(texts).size).toBe(REFUSAL_REASONS.length);
    const titles = REFUSAL_REASONS.map((reason) => /<h1>(.*)<\/h1>/.exec(refusedPage(reason))?.[1]);
    expect(new Set(titles).size).toBe(REFUSAL_REASONS.length);
    for (const text of texts) expect(text).toContain('Nothing was changed.');
  });

  it.each([
    ['expired', 'This link has expired', 'newest page'],
    ['forged', 'This link is not valid', 'newest page'],
    ['malformed', 'This link is incomplete', 'copy the whole link'],
    ['other-incident', 'This link is for a different incident', 'exactly as it was sent'],
    ['not-found', 'Incident not found', 'Check which Klaxon paged you'],
  ] as const)('%s: says "%s" and what to do', (reason, title, advice) => {
    const html = refusedPage(reason);
    expect(html).toContain(`<h1>${title}</h1>`);
    expect(visibleText(html)).toContain(advice);
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).not.toContain('<form');
  });
});
