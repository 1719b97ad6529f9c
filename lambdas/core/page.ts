import type { Contact, KlaxonConfig } from './config.ts';
import type { Incident, IncidentStatus } from './incident.ts';
import type { Severity } from './severity.ts';

/**
 * A page: one message to one contact of one responder. Pages are published per contact so that
 * SNS filter policies deliver each to exactly that contact, and so that each contact can be
 * throttled on its own.
 *
 * - `page`: you are being paged for this incident (carries acknowledge/resolve links)
 * - `reminder`: the incident is still open; post a status update
 * - `notice`: information about an incident you were paged for (acknowledged by someone else,
 *   resolved, escalation exhausted)
 */
export const PAGE_KINDS = ['page', 'reminder', 'notice'] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/** Stable key of a responder's contact: `<responder id>-<index in its contacts>`. */
export function contactKey(responderId: string, index: number): string {
  return `${responderId}-${index}`;
}

export interface PageIncident {
  readonly id: string;
  readonly title: string;
  readonly service: string;
  readonly serviceName: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly detectedAt: string;
  readonly alertCount: number;
  /** Where the first alert came from (a host, an alarm), as its sender named it. */
  readonly source: string;
  /** The first alert's links — runbook, dashboard, the sender's own page — at most PAGE_LINKS. */
  readonly alertLinks: readonly { readonly href: string; readonly text?: string }[];
  /** What the first alert's sender said beyond the summary (an annotation, custom details). */
  readonly description?: string;
}

/** How many of an alert's links a page carries (what the responder needs first: the runbook). */
export const PAGE_LINKS = 5;
const LINK_TEXT_MAX = 100;
const LINK_HREF_MAX = 2048;

/** What a page says of its incident. */
export function pageIncident(incident: Incident, config: KlaxonConfig): PageIncident {
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    serviceName: config.services.find((s) => s.id === incident.service)?.name ?? incident.service,
    severity: incident.sev,
    status: incident.status,
    detectedAt: incident.detectedAt,
    alertCount: incident.alertCount,
    source: incident.source,
    // A link longer than a page can spare is left out (a cut one would lead nowhere).
    alertLinks: (incident.links ?? [])
      .filter((link) => link.href.length <= LINK_HREF_MAX)
      .slice(0, PAGE_LINKS)
      .map((link) => ({
        href: link.href,
        ...(link.text ? { text: link.text.slice(0, LINK_TEXT_MAX) } : {}),
      })),
    ...(incident.description ? { description: incident.description } : {}),
  };
}

export interface Page {
  /** Deterministic: the same cause paging the same contact again has the same id. */
  readonly id: string;
  readonly kind: PageKind;
  readonly incident: PageIncident;
  readonly responder: { readonly id: string; readonly name: string };
  readonly contact: Contact & { readonly key: string };
  /** The escalation level (1-based) that paged, for kind `page`. */
  readonly level?: number;
  /** One line saying why this message was sent ("Escalated to level 2", "Acknowledged by Alice"). */
  readonly reason: string;
  readonly links: {
    /**
     * The incident's read-only page, signed for this responder like the acknowledge links (no
     * login). Its buttons are the responder's own acknowledge/resolve links while it is open.
     */
    readonly incident: string;
    /** Signed links (kind `page` and `reminder`). */
    readonly acknowledge?: string;
    readonly resolve?: string;
  };
  /**
   * Set on a digest: the pages the throttle held for this contact, sent as one message when it
   * allows a page again (GoAlert's alert bundling). `incident` is the first of `incidents`.
   */
  readonly digest?: {
    /** How many held incidents still wait for an acknowledgement (`incidents` lists the first). */
    readonly total: number;
    readonly incidents: readonly DigestEntry[];
    /**
     * With more than one incident: a signed link that acknowledges every incident the digest
     * covered, named or not (`count` of them: those counted past the held set's limit are not
     * known by id).
     */
    readonly acknowledgeAll?: { readonly link: string; readonly count: number };
  };
}

/** One incident in a digest, with its own links. */
export interface DigestEntry extends PageIncident {
  readonly links: { readonly incident: string; readonly acknowledge?: string };
}

/** A page rendered for each protocol SNS delivers to. */
export interface RenderedPage {
  /** Email subject (≤ 100 characters, SNS's limit). */
  readonly subject: string;
  /** Plain-text email body. */
  readonly email: string;
  /** One SMS (160 GSM 03.38 characters with the channel's prefix), with the acknowledge link when there is one. */
  readonly sms: string;
  /** JSON document for HTTPS webhooks. */
  readonly json: string;
}
