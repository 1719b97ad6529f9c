import type { Page } from '#core/page';

export const ackLink = 'https://klaxon.example.com/a/7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
export const resolveLink = 'https://klaxon.example.com/a/7kq2mzx4ab3c.r.alice.tbxw00.Pq0sK2b1xv8yZ3mWc4nLdg';
/** The incident's read-only page, signed for alice (action v). */
export const incidentLink = 'https://klaxon.example.com/a/7kq2mzx4ab3c.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg';

/** Contacts of each protocol, keyed as `contactKey('alice', i)` would key them. */
export const contacts = {
  email: { type: 'email', address: 'alice@example.com', key: 'alice-0' },
  sms: { type: 'sms', number: '+4915112345678', key: 'alice-1' },
  webhook: { type: 'webhook', url: 'https://hooks.example.com/klaxon', key: 'alice-2' },
} as const satisfies Record<string, Page['contact']>;

/**
 * A valid page (kind `page`, level 2, SEV-1 on checkout, to Alice's email) with signed links;
 * override any field, e.g. `makePage({ contact: contacts.sms })`.
 */
export function makePage(overrides: Partial<Page> = {}): Page {
  return {
    id: 'p1',
    kind: 'page',
    incident: {
      id: '7kq2mzx4ab3c',
      title: 'Disk 95% full on db-1',
      service: 'checkout',
      serviceName: 'Checkout API',
      severity: 'SEV-1',
      status: 'triggered',
      detectedAt: '2026-11-26T10:00:00.000Z',
      alertCount: 3,
      source: 'db-1',
      alertLinks: [],
    },
    responder: { id: 'alice', name: 'Alice' },
    contact: contacts.email,
    level: 2,
    reason: 'Escalated to level 2',
    links: { incident: incidentLink, acknowledge: ackLink, resolve: resolveLink },
    ...overrides,
  };
}

/** A notice (no level, no signed links): "acknowledged by someone else". */
export function makeNotice(overrides: Partial<Page> = {}): Page {
  const page = makePage();
  return makePage({
    id: 'p2',
    kind: 'notice',
    level: undefined,
    incident: { ...page.incident, status: 'acknowledged' },
    reason: 'Acknowledged by Bob',
    links: { incident: incidentLink },
    ...overrides,
  });
}

/** GSM 03.38 as the SMS channel counts it, written out apart from the renderer's own table. */
const GSM7 =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[~]|€';

/**
 * How a text travels as SMS (AWS End User Messaging, "SMS character limits"): 160 GSM 03.38
 * characters in one part (extension characters count two), or 70 UCS-2 characters as soon as one
 * character is outside GSM 03.38; a longer text is split into parts of 153 or 67.
 */
export function smsParts(text: string): { encoding: 'GSM-7' | 'UCS-2'; units: number; parts: number } {
  const chars = [...text];
  if (chars.every((c) => GSM7.includes(c) || GSM7_EXTENSION.includes(c))) {
    const units = chars.reduce((n, c) => n + (GSM7_EXTENSION.includes(c) ? 2 : 1), 0);
    return { encoding: 'GSM-7', units, parts: units <= 160 ? 1 : Math.ceil(units / 153) };
  }
  return {
    encoding: 'UCS-2',
    units: text.length,
    parts: text.length <= 70 ? 1 : Math.ceil(text.length / 67),
  };
}
