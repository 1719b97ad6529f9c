import type { AckAction } from '#core/ack-token';
import type { IncidentStatus } from '#core/incident';
import type { Severity } from '#core/severity';

/**
 * The HTML pages behind acknowledge/resolve links and a page's incident link. Self-contained (inline CSS, no scripts, no
 * external assets), not indexed, and sending no referrer, since the URL carries a token.
 *
 * Opening a link (GET) shows `confirmPage` and changes nothing: mail scanners and link previews
 * follow links. Only its form's POST acts. Every interpolated text goes through `escapeHtml`.
 */

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export interface ConfirmPageInput {
  readonly incidentTitle: string;
  readonly serviceName: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly action: AckAction;
  readonly responderName: string;
  /** Where the form posts: the same signed link, relative to the page's URL (`./<token>`). */
  readonly formAction: string;
  /** The service's ack timeout (0: none): an acknowledged incident still open then pages again. */
  readonly ackTimeoutMinutes: number;
  /** The service's monitoring period after a resolve (0: none): an alert in it reopens the incident. */
  readonly monitoringMinutes: number;
  /** Escalate: the escalation step the page shows, posted with it (a second press is a no-op). */
  readonly step?: number;
  /** Snooze: the snooze end the page shows ('' for none), posted with it (see snoozeFields). */
  readonly snoozedUntil?: string;
}

const VERBS: Readonly<Record<AckAction, string>> = {
  ack: 'Acknowledge',
  resolve: 'Resolve',
  escalate: 'Escalate',
  snooze: 'Snooze',
};

/** An escalate form's field: the step the person saw, so a second press does not skip a level. */
const stepField = (step: number | undefined) =>
  step === undefined ? '' : `<input type="hidden" name="from" value="${step}">\n`;

/** How long a snooze form offers (PagerDuty's choices), in minutes; the first is chosen. */
export const SNOOZE_CHOICES = [60, 240, 480, 1440] as const;

/**
 * A snooze form's fields: how long, and the snooze end the person saw (`from`, '' for none), so a
 * second press, or one after someone else's snooze, does not move it again.
 */
const snoozeFields = (until: string | undefined) =>
  `<select name="minutes" aria-label="For">${SNOOZE_CHOICES.map((m) => `<option value="${m}">${m / 60} h</option>`).join('')}</select>\n<input type="hidden" name="from" value="${escapeHtml(until ?? '')}">\n`;

/** The fields a form of `action` posts besides its button. */
const fieldsOf = (action: AckAction, extra: { step?: number; snoozedUntil?: string }) =>
  action === 'escalate' ? stepField(extra.step) : action === 'snooze' ? snoozeFields(extra.snoozedUntil) : '';

/** What the action will do, as the service is configured (the page must not promise more). */
function effectOf(input: ConfirmPageInput): string {
  if (input.action === 'escalate')
    return 'Escalating pages the next level of the escalation policy now instead of at its time. Acknowledge instead if you are taking it.';
  if (input.action === 'snooze')
    return 'Snoozing keeps it acknowledged and pages nobody until the snooze ends, instead of at the ack timeout. If it is still not resolved then, whoever acknowledged it is paged again and escalation restarts.';
  if (input.action === 'ack') {
    const timeout = input.ackTimeoutMinutes;
    return `Acknowledging tells everyone you are on it and stops the escalation: nobody else is paged for now. ${
      timeout > 0
        ? `If it is still not resolved ${minutesText(timeout)} later, you are paged again and escalation restarts.`
        : 'It stays open until it is resolved.'
    }`;
  }
  const period = input.monitoringMinutes;
  return period > 0
    ? `Resolving stops all paging for it. Klaxon watches it for ${minutesText(period)}: if the alert fires again in that time the incident reopens, after that a new alert opens a new incident.`
    : 'Resolving closes the incident and stops all paging for it. A new alert opens a new incident.';
}

const minutesText = (n: number) => (n === 1 ? '1 minute' : `${n} minutes`);

export function confirmPage(input: ConfirmPageInput): string {
  const verb = VERBS[input.action];
  const effect = effectOf(input);
  const moot =
    input.status === 'resolved'
      ? 'This incident is already resolved.'
      : input.status === 'acknowledged' && input.action === 'ack'
        ? 'This incident is already acknowledged.'
        : input.status !== 'triggered' && input.action === 'escalate'
          ? `This incident is ${input.status}: it no longer escalates.`
          : input.status !== 'acknowledged' && input.action === 'snooze'
            ? `This incident is ${input.status}: only an acknowledged incident can be snoozed.`
            : undefined;
  return layout(
    `${verb} incident?`,
    `<h1>${verb} this incident?</h1>
${incidentBox(input.incidentTitle, `${input.severity} · ${input.serviceName} · ${input.status}`)}
<p>${escapeHtml(effect)}</p>
${moot === undefined ? '' : `<p class="note">${escapeHtml(moot)}</p>\n`}<p>You act as <strong>${escapeHtml(input.responderName)}</strong>.</p>
<form method="post" action="${escapeHtml(input.formAction)}">
${fieldsOf(input.action, input)}<button type="submit">${verb}</button>
</form>`,
  );
}

export interface IncidentPageInput {
  readonly incidentTitle: string;
  readonly serviceName: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly alertCount: number;
  /** Where its first alert came from, and that alert's links (runbook, dashboard, the sender's page). */
  readonly source?: string;
  readonly links?: readonly { readonly href: string; readonly text?: string }[];
  /** What that alert's sender said of it beyond the summary, its line breaks kept. */
  readonly description?: string;
  /** The impact it was declared with, on one line (impactLine); absent for an alert's incident. */
  readonly impact?: string;
  /** Who acknowledged it and when, as people read it ("Alice at 10:05"). */
  readonly acknowledged?: string;
  /** Who snoozed it and until when, while it is snoozed ("Alice until 12:05"). */
  readonly snoozed?: string;
  /** The rendered timeline (renderTimelineEntry), oldest first. */
  readonly timeline: readonly string[];
  readonly responderName: string;
  /** The responder's own signed links while the incident is open: a form (POST) each. */
  readonly actions: readonly {
    readonly action: AckAction;
    readonly formAction: string;
    /** Escalate: the step shown (see ConfirmPageInput). */
    readonly step?: number;
    /** Snooze: the snooze end shown (see ConfirmPageInput). */
    readonly snoozedUntil?: string;
  }[];
}

/**
 * A page's incident link: the incident, read-only. Its buttons POST to the responder's own
 * acknowledge/resolve/escalate/snooze links, which act at once (pressing one is the confirmation).
 */
export function incidentPage(input: IncidentPageInput): string {
  const alerts = `${input.alertCount} alert${input.alertCount === 1 ? '' : 's'}`;
  const forms = input.actions.map(
    (a) =>
      `<form method="post" action="${escapeHtml(a.formAction)}">\n${fieldsOf(a.action, a)}<button type="submit">${VERBS[a.action]}</button>\n</form>`,
  );
  return layout(
    input.incidentTitle,
    `<h1>Incident</h1>
${incidentBox(input.incidentTitle, `${input.severity} · ${input.serviceName} · ${input.status}`)}
<p>${alerts}${input.acknowledged === undefined ? '' : ` · Acknowledged by ${escapeHtml(input.acknowledged)}`}${input.snoozed === undefined ? '' : ` · Snoozed by ${escapeHtml(input.snoozed)}`}</p>
${input.source === undefined ? '' : `<p>Source: ${escapeHtml(input.source)}</p>\n`}${input.description === undefined ? '' : `<p class="said">${escapeHtml(input.description.replace(/[^\P{Cc}\n]/gu, ' '))}</p>\n`}${linkList(input.links ?? [])}${input.impact === undefined ? '' : `<p>Impact: ${escapeHtml(input.impact)}</p>\n`}${
  forms.length === 0
    ? ''
    : `<p>You act as <strong>${escapeHtml(input.responderName)}</strong>; a button acts at once.</p>\n${forms.join('\n')}\n`
}<h2>Timeline</h2>
<ul class="timeline">${input.timeline.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`,
  );
}

/**
 * An alert's links as a list. Only http(s) ones are links: an alert's sender chose them, and a
 * `javascript:` URL must not run on Klaxon's page (the others are shown as text).
 */
function linkList(links: readonly { readonly href: string; readonly text?: string }[]): string {
  if (links.length === 0) return '';
  const item = (l: { href: string; text?: string }) => {
    const label = escapeHtml(l.text || l.href);
    return /^https?:\/\//i.test(l.href)
      ? `<li><a href="${escapeHtml(l.href)}" rel="noopener noreferrer">${label}</a></li>`
      : `<li>${label} (${escapeHtml(l.href)})</li>`;
  };
  return `<ul class="links">${links.map(item).join('')}</ul>\n`;
}

export interface DigestPageInput {
  /** How many incidents the digest covered. */
  readonly count: number;
  /** When it was sent, as people read it (HH:MM in the configured zone). */
  readonly sentAt: string;
  readonly responderName: string;
  readonly formAction: string;
  /**
   * After a request that did not finish: where the next goes on (`from`, a position in the
   * digest's list) and which incidents before it failed and are tried again (`retry`).
   */
  readonly progress?: { readonly from: number; readonly retry: readonly string[] };
}

/** A digest's "acknowledge all" link: the confirmation, or after an unfinished run, the form to go on. */
export function confirmDigestPage(input: DigestPageInput): string {
  const n = `${input.count} incident${input.count === 1 ? '' : 's'}`;
  const { progress } = input;
  const done = progress === undefined ? 0 : progress.from - progress.retry.length;
  const title = progress === undefined ? `Acknowledge all ${n}?` : `${done} of ${input.count} done`;
  const text =
    progress === undefined
      ? `The digest sent at ${input.sentAt} covered ${n} held while your pages were paused. Acknowledging them tells everyone you are on them and stops their escalation. Those acknowledged or resolved by someone else meanwhile are left as they are.`
      : `Klaxon has gone through ${done} of the ${n}${
          progress.retry.length > 0
            ? `; ${progress.retry.length} could not be acknowledged just now and will be tried again (if they keep failing, acknowledge them from their own links or with the klaxon CLI: ${progress.retry.join(', ')})`
            : ''
        }. Go on to acknowledge the other ${input.count - done}.`;
  const fields =
    progress === undefined
      ? ''
      : `<input type="hidden" name="from" value="${progress.from}">\n${
          progress.retry.length > 0
            ? `<input type="hidden" name="retry" value="${escapeHtml(progress.retry.join(','))}">\n`
            : ''
        }`;
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(text)}</p>
<p>You act as <strong>${escapeHtml(input.responderName)}</strong>.</p>
<form method="post" action="${escapeHtml(input.formAction)}">
${fields}<button type="submit">${progress === undefined ? `Acknowledge all ${input.count}` : 'Go on'}</button>
</form>`,
  );
}

/** The request of an "acknowledge all" that found nothing left to do: what this request did. */
export function digestDonePage(input: {
  readonly count: number;
  /** Whether it went on from a "go on" form (it did only part of the list). */
  readonly continued: boolean;
  readonly acknowledged: number;
  readonly unchanged: number;
}): string {
  const { count, continued, acknowledged, unchanged } = input;
  const left =
    unchanged > 0
      ? `${unchanged} ${continued ? '' : `of the ${count} `}were already acknowledged, resolving or resolved, or gone, and were left as they were.`
      : '';
  if (continued)
    // Only what this request did: a form's position is the responder's word, not a record.
    return resultPage({
      title: 'Done',
      message:
        `This part acknowledged ${acknowledged} more. ${left} Open the link again to go over all ${count}: what is acknowledged already is left as it is.`
          .replace(/\s+/g, ' ')
          .trim(),
    });
  return resultPage({
    title: acknowledged > 0 ? `Acknowledged ${acknowledged}` : 'Nothing to acknowledge',
    message: `${acknowledged > 0 ? 'Escalation stopped for them: nobody else is paged for them. ' : ''}${
      left || `All ${count} are acknowledged.`
    }`,
  });
}

export interface ResultPageInput {
  /** e.g. "Acknowledged — escalation stopped", "Already acknowledged by Alice". */
  readonly title: string;
  readonly message: string;
  readonly incidentTitle?: string;
}

export function resultPage(input: ResultPageInput): string {
  return layout(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1>
${input.incidentTitle === undefined ? '' : `${incidentBox(input.incidentTitle)}\n`}<p>${escapeHtml(input.message)}</p>`,
  );
}

export const REFUSAL_REASONS = [
  'malformed',
  'forged',
  'expired',
  'other-incident',
  'not-found',
  'no-digest',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const FALLBACK = 'Use the link in the newest page you received, or act with the klaxon CLI.';

const REFUSALS: Readonly<Record<RefusalReason, { title: string; message: string; advice: string }>> = {
  malformed: {
    title: 'This link is incomplete',
    message: 'The link is damaged or was cut short, as some mail and SMS apps do with long links.',
    advice: `Open it again from the original message, or copy the whole link into your browser. ${FALLBACK}`,
  },
  forged: {
    title: 'This link is not valid',
    message:
      'Its signature does not match: the link was changed, or it was signed with a secret that has since been replaced.',
    advice: FALLBACK,
  },
  expired: {
    title: 'This link has expired',
    message: 'Links in pages work for a limited time only, and this one is past it.',
    advice: FALLBACK,
  },
  'other-incident': {
    title: 'This link is for a different incident',
    message: 'The link was signed for another incident than the one in its address, so nothing was done.',
    advice: `Open the link exactly as it was sent. ${FALLBACK}`,
  },
  'not-found': {
    title: 'Incident not found',
    message:
      'This Klaxon does not know the incident: it was deleted, or the link belongs to another installation.',
    advice: 'Check which Klaxon paged you, and look the incident up there or with the klaxon CLI.',
  },
  'no-digest': {
    title: 'Digest not found',
    message:
      'This Klaxon does not know the digest this link acknowledges: it was removed, or the link belongs to another installation.',
    advice: 'Use the acknowledge link of each incident in the message, or act with the klaxon CLI.',
  },
};

export function refusedPage(reason: RefusalReason): string {
  const { title, message, advice } = REFUSALS[reason];
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p>${escapeHtml(advice)}</p>
<p class="note">Nothing was changed.</p>`,
  );
}

function incidentBox(title: string, meta?: string): string {
  return `<div class="incident"><p class="title">${escapeHtml(title)}</p>${
    meta === undefined ? '' : `<p class="meta">${escapeHtml(meta)}</p>`
  }</div>`;
}

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}
.incident{border-left:4px solid #c62828;padding:.25rem .75rem;background:#f6f6f6}
.incident p{margin:.25rem 0}.title{font-weight:600}.meta,.note{color:#555}
button{font-size:1.1rem;padding:.6rem 1.6rem;border:0;border-radius:.3rem;background:#c62828;color:#fff;cursor:pointer}
form{display:inline-block;margin:0 .5rem .5rem 0}h2{font-size:1.1rem}
.timeline{font:13px/1.4 ui-monospace,monospace;padding-left:1rem}.said{white-space:pre-wrap;overflow-wrap:anywhere}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'">
<title>${escapeHtml(title)} · Klaxon</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
