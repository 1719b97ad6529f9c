import type { DigestEntry, Page, PageIncident, RenderedPage } from './page.ts';
import { dateTimeFormat } from './wall-clock.ts';

/**
 * Renders a page for every protocol SNS delivers to.
 *
 * - subject: `[SEV-1] Checkout API: Disk 95% full on db-1` (page), `[Reminder] [SEV-1] …`
 *   (reminder), `[Acknowledged by Alice] [SEV-1] …` (notice: the reason as the tag). At most 99
 *   characters: SNS wants subjects "less than 100 characters", without line breaks.
 * - sms (one SMS: 160 GSM 03.38 characters with what the channel puts before it, `smsPrefix`):
 *   `SEV-1 checkout: Disk 95% full on db-1 ACK <acknowledge link>`, or `Reminder SEV-1 checkout: …`
 *   for reminders. The link always survives whole; the title is cut (with '...') to make room,
 *   then dropped, then severity and service, then the `ACK` label. The text outside the link is
 *   kept to GSM 03.38 (transliterated, e.g. '…' → '...', 'ê' → 'e', the rest such as emoji
 *   dropped): one character outside it makes the whole message UCS-2, 70 characters, too short for
 *   a link, and SNS splits a longer one into parts, cutting the link across them. Extension
 *   characters (`{}[]~^\|€`) count twice, as they are sent. A link too long for an SMS on its own
 *   is sent alone and over the limit (SNS splits it): a whole link in two parts beats a cut one.
 *   Without an acknowledge link (notices): `[Acknowledged by Alice] SEV-1 checkout: <title...>`.
 * - email: plain text, times in the given zone.
 * - json: `{ version: 1, id, kind, reason, level?, incident, responder, links, digest? }` for webhooks.
 *
 * `links.incident` is the incident's read-only page, signed for the responder like the acknowledge
 * links: the email and the JSON carry it; an SMS has room for one link, its acknowledge link.
 *
 * A digest (the pages the throttle held, in one message) is tagged `[12 incidents waiting]` in the
 * subject and SMS. Its SMS carries the "acknowledge all" link (`ACK ALL <link>`, PagerDuty's
 * "reply 4 to ack all"), or with one incident that incident's acknowledge link; its email offers
 * both: acknowledge all, and each named incident with its own link.
 */

export const SUBJECT_MAX_CHARS = 99;
/** One SMS in GSM 03.38 (7-bit) characters; an extension character takes two. */
export const SMS_MAX_SEPTETS = 160;
/** One SMS with any character outside GSM 03.38: UCS-2, UTF-16 code units. */
export const SMS_MAX_UCS2 = 70;
/** A tag or service name longer than this is cut in the subject, so the title still shows. */
const SUBJECT_PART_MAX_CHARS = 30;
const ELLIPSIS = '…';
/** '…' is no GSM 03.38 character: in an SMS it would make the whole message UCS-2. */
const SMS_ELLIPSIS = '...';

export interface RenderOptions {
  /** IANA zone for times shown to people. */
  readonly timeZone: string;
  /**
   * What the SMS channel puts before the text, counted into the one SMS: SNS prepends a topic's
   * display name, upper-cased, and '> ' (`KLAXON> `). Default: nothing.
   */
  readonly smsPrefix?: string;
}

export function renderPage(page: Page, options: RenderOptions): RenderedPage {
  return {
    subject: renderSubject(page),
    email: renderEmail(page, options.timeZone),
    sms: renderSms(page, options.smsPrefix ?? ''),
    json: renderJson(page),
  };
}

/** How many incidents a digest says are waiting. */
const DIGEST_TAG = (total: number) => `${total} incident${total === 1 ? '' : 's'} waiting`;

function renderSubject(page: Page): string {
  const { incident } = page;
  const tag =
    page.digest !== undefined
      ? `[${DIGEST_TAG(page.digest.total)}] `
      : page.kind === 'page'
        ? ''
        : `[${truncateChars(page.kind === 'reminder' ? 'Reminder' : reasonOf(page), SUBJECT_PART_MAX_CHARS)}] `;
  const service = truncateChars(oneLine(incident.serviceName), SUBJECT_PART_MAX_CHARS);
  return truncateChars(
    `${tag}[${incident.severity}] ${service}: ${oneLine(incident.title)}`,
    SUBJECT_MAX_CHARS,
  );
}

function renderEmail(page: Page, timeZone: string): string {
  if (page.digest !== undefined) return renderDigestEmail(page, page.digest, timeZone);
  const { incident, links } = page;
  const signed = links.acknowledge !== undefined || links.resolve !== undefined;
  return [
    oneLine(incident.title),
    reasonOf(page),
    '',
    `Severity: ${incident.severity}`,
    `Service: ${oneLine(incident.serviceName)} (${incident.service})`,
    `Status: ${incident.status}`,
    `Detected: ${formatTime(incident.detectedAt, timeZone)}`,
    `Alerts: ${incident.alertCount}`,
    `Source: ${oneLine(incident.source)}`,
    ...(page.level !== undefined ? [`Level: ${page.level}`] : []),
    // The sender's words under a heading, indented: never taken for Klaxon's own lines below.
    ...(incident.description
      ? ['', 'Details:', ...textLines(incident.description).map((l) => (l === '' ? l : `  ${l}`))]
      : []),
    ...(incident.alertLinks.length > 0
      ? [
          '',
          'Links:',
          ...incident.alertLinks.map((l) => `  ${l.text ? `${oneLine(l.text)}: ` : ''}${l.href}`),
        ]
      : []),
    '',
    ...(links.acknowledge !== undefined ? [`Acknowledge: ${links.acknowledge}`] : []),
    ...(links.resolve !== undefined ? [`Resolve: ${links.resolve}`] : []),
    `Incident: ${links.incident}`,
    ...(signed
      ? [
          '',
          '--',
          'The Acknowledge and Resolve links open a confirmation page: nothing changes until you confirm there.',
        ]
      : []),
    '',
  ].join('\n');
}

function renderDigestEmail(page: Page, digest: NonNullable<Page['digest']>, timeZone: string): string {
  const more = digest.total - digest.incidents.length;
  const item = (i: DigestEntry) => [
    `[${i.severity}] ${oneLine(i.serviceName)}: ${oneLine(i.title)}`,
    `  Detected ${formatTime(i.detectedAt, timeZone)}, ${i.alertCount} alert${i.alertCount === 1 ? '' : 's'}, ${i.status}`,
    ...(i.links.acknowledge !== undefined ? [`  Acknowledge: ${i.links.acknowledge}`] : []),
    `  Incident: ${i.links.incident}`,
  ];
  const all = digest.acknowledgeAll;
  return [
    `${DIGEST_TAG(digest.total)} for an acknowledgement`,
    reasonOf(page),
    '',
    ...(all === undefined
      ? []
      : [
          all.count === digest.total
            ? `Acknowledge all ${all.count}: ${all.link}`
            : `Acknowledge ${all.count} of the ${digest.total} (the others were only counted): ${all.link}`,
          '',
        ]),
    ...digest.incidents.flatMap((i) => [...item(i), '']),
    ...(more > 0 ? [`… and ${more} more: see the open incidents in Klaxon.`, ''] : []),
    '--',
    'The Acknowledge links open a confirmation page: nothing changes until you confirm there.',
    '',
  ].join('\n');
}

function renderSms(page: Page, prefix: string): string {
  const { incident } = page;
  const fitText = (template: (text: string) => string, text: string) => fitSmsText(prefix, template, text);
  const fitWhole = (sms: string) => (fitsSms(prefix + sms) ? sms : undefined);
  const service = smsText(incident.service);
  const title = smsText(incident.title);
  if (page.digest !== undefined) {
    const all = page.digest.acknowledgeAll?.link;
    const tag = DIGEST_TAG(page.digest.total);
    const head = `${tag}${all === undefined ? '.' : ', most urgent'} ${incident.severity} ${service}`;
    const bare = all ?? page.links.acknowledge;
    const link =
      all !== undefined ? `ACK ALL ${all}` : bare === undefined ? page.links.incident : `ACK ${bare}`;
    return (
      fitText((t) => `${head}: ${t} ${link}`, title) ??
      // "most urgent <service>" without its title reads as if ALL meant that one: the tag alone.
      (all === undefined ? fitWhole(`${head} ${link}`) : undefined) ??
      fitWhole(`${tag} ${link}`) ??
      fitWhole(link) ??
      bare ??
      link
    );
  }
  const head = `${page.kind === 'reminder' ? 'Reminder ' : ''}${incident.severity} ${service}`;
  const link = page.links.acknowledge;
  if (link !== undefined) {
    return (
      fitText((t) => `${head}: ${t} ACK ${link}`, title) ??
      fitWhole(`${head} ACK ${link}`) ??
      fitWhole(`ACK ${link}`) ??
      link
    );
  }
  const reason = smsText(reasonOf(page));
  return (
    fitText((t) => `[${reason}] ${head}: ${t}`, title) ??
    fitWhole(`[${reason}] ${head}`) ??
    fitText((r) => `[${r}] ${head}`, reason) ??
    fitText((r) => r, reason) ??
    fitText((h) => h, head) ??
    ''
  );
}

function renderJson(page: Page): string {
  const { links } = page;
  // Fields listed one by one: a stable order, and nothing of the contact leaks into the payload.
  return JSON.stringify({
    version: 1,
    id: page.id,
    kind: page.kind,
    reason: page.reason,
    level: page.level,
    incident: incidentJson(page.incident),
    responder: { id: page.responder.id, name: page.responder.name },
    links: { incident: links.incident, acknowledge: links.acknowledge, resolve: links.resolve },
    digest:
      page.digest === undefined
        ? undefined
        : {
            total: page.digest.total,
            incidents: page.digest.incidents.map((i) => ({
              // Without the alerts' links: 20 entries of them could pass SNS's 256 KB.
              ...incidentJson(i, { alertLinks: false }),
              links: { incident: i.links.incident, acknowledge: i.links.acknowledge },
            })),
            acknowledgeAll:
              page.digest.acknowledgeAll === undefined
                ? undefined
                : { link: page.digest.acknowledgeAll.link, count: page.digest.acknowledgeAll.count },
          },
  });
}

/** An incident's fields in the webhook document, in their stable order. */
function incidentJson(incident: PageIncident, options: { alertLinks?: false } = {}) {
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    serviceName: incident.serviceName,
    severity: incident.severity,
    status: incident.status,
    detectedAt: incident.detectedAt,
    alertCount: incident.alertCount,
    source: incident.source,
    // Digest entries leave out what a page of one incident says at length (links, description).
    ...(options.alertLinks === false ? {} : { alertLinks: incident.alertLinks }),
    ...(options.alertLinks === false || !incident.description ? {} : { description: incident.description }),
  };
}

function reasonOf(page: Page): string {
  return oneLine(page.reason) || (page.kind === 'reminder' ? 'Reminder' : 'Notice');
}

/** `2026-03-14 15:04 CET (Europe/Berlin)`; the zone name is left out when it equals the abbreviation. */
function formatTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = dateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const zone = part('timeZoneName');
  const text = `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${zone}`;
  return zone === timeZone ? text : `${text} (${timeZone})`;
}

/** Line breaks, tabs and control characters become single spaces: subjects and SMS are one line. */
function oneLine(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
}

/**
 * A sender's text as email lines: its line breaks and indentation kept, every other control
 * character (a tab too) a space, runs of blank lines one.
 */
function textLines(text: string): string[] {
  return text
    .trim()
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/\p{Cc}/gu, ' ').trimEnd())
    .filter((line, i, lines) => line !== '' || (i > 0 && lines[i - 1] !== ''));
}

/**
 * Built on first use, not at import: constructing the first Intl.Segmenter loads ICU break data
 * (~10 ms), and only text too long for a subject, or SMS text outside GSM 03.38, needs it.
 */
let segmenter: Intl.Segmenter | undefined;

/** Cuts only between user-perceived characters: never inside a UTF-8 sequence, surrogate pair or emoji. */
function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** `text` if it fits `max` UTF-16 units, else its longest prefix that fits with '…'. */
function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const g of graphemes(text)) {
    if (out.length + g.length + ELLIPSIS.length > max) break;
    out += g;
  }
  return out.trimEnd() + ELLIPSIS;
}

/** GSM 03.38's basic character set: one septet each. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** GSM 03.38's extension table: an escape septet and one more each. */
const GSM7_EXTENSION = new Set('^{}\\[~]|€');
/** GSM spellings of characters outside GSM 03.38 that titles often hold (typographic punctuation). */
const GSM7_SPELLING: Readonly<Record<string, string>> = {
  '…': '...',
  '‘': "'",
  '’': "'",
  '‚': "'",
  '′': "'",
  '`': "'",
  '“': '"',
  '”': '"',
  '„': '"',
  '″': '"',
  '«': '"',
  '»': '"',
  '‐': '-',
  '‑': '-',
  '–': '-',
  '—': '-',
  '−': '-',
  '•': '*',
  '×': 'x',
  '→': '->',
  '≥': '>=',
  '≤': '<=',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
  œ: 'oe',
  Œ: 'OE',
};

function isGsm7(text: string): boolean {
  for (const c of text) if (!GSM7_BASIC.has(c) && !GSM7_EXTENSION.has(c)) return false;
  return true;
}

function septets(text: string): number {
  let n = 0;
  for (const c of text) n += GSM7_EXTENSION.has(c) ? 2 : 1;
  return n;
}

/** What a text takes of one SMS, and how much one holds, in the encoding SNS sends it in. */
function smsFrame(text: string): { used: number; room: number; size: (text: string) => number } {
  const gsm = isGsm7(text);
  const size = gsm ? septets : (t: string) => t.length;
  return { used: size(text), room: gsm ? SMS_MAX_SEPTETS : SMS_MAX_UCS2, size };
}

function fitsSms(text: string): boolean {
  const { used, room } = smsFrame(text);
  return used <= room;
}

/**
 * Text for an SMS: on one line, in GSM 03.38. A character outside it is spelled in it (composed,
 * by the table above, or without its accents: 'ê' → 'e'), else left out (emoji, other scripts).
 */
function smsText(text: string): string {
  const line = oneLine(text);
  if (isGsm7(line)) return line;
  const spelled = graphemes(line).map((g) => {
    const composed = g.normalize('NFC');
    if (isGsm7(composed)) return composed;
    const known = GSM7_SPELLING[composed];
    if (known !== undefined) return known;
    const bare = g.normalize('NFD').replace(/\p{M}/gu, '');
    return isGsm7(bare) ? bare : '';
  });
  return spelled.join('').replace(/ {2,}/g, ' ').trim();
}

/**
 * The template with `text` (GSM 03.38, from smsText; cut with '...' to make room) if at least one
 * character of it fits in one SMS after `prefix`. The text adds no other encoding, so the
 * template's own characters decide how much room there is.
 */
function fitSmsText(prefix: string, template: (text: string) => string, text: string): string | undefined {
  const { used, room, size } = smsFrame(prefix + template(''));
  const free = room - used;
  if (size(text) <= free) return text === '' ? undefined : template(text);
  let cut = '';
  let taken = size(SMS_ELLIPSIS);
  for (const c of text) {
    taken += size(c);
    if (taken > free) break;
    cut += c;
  }
  return cut.trim() === '' ? undefined : template(cut.trimEnd() + SMS_ELLIPSIS);
}
