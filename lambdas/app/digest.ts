import type { Contact } from '#core/config';
import { timelineEntryId } from '#core/ids';
import type { Incident } from '#core/incident';
import { contactKey, type DigestEntry, type Page } from '#core/page';
import { SEVERITIES } from '#core/severity';
import { retryAt, throttle, throttleRules } from '#core/throttle';
import { timer } from '#core/timers';
import { type EscalationDeps, pageIncident, type TimerOutcome } from './escalation.ts';

/**
 * Theory of operation — digests (GoAlert's alert bundling).
 *
 * The per-contact throttle never drops a page. When it refuses one, the incident joins the
 * contact's held set (on the contact's throttle item) and a digest timer is set for the moment the
 * throttle allows a page again; the first holder sets `due` and creates the timer, later holders
 * only join the set. When the timer fires, the incidents still waiting for an acknowledgement go
 * out in one message — through the throttle like any page, so a digest counts as one page — and
 * leave the set (as do those acknowledged, resolved or stopped by a maintenance window meanwhile:
 * without a message). Whatever was held meanwhile moves the digest to the next allowed time. Past
 * HELD_MAX incidents a contact's held pages are only counted: the digest says "and N more".
 *
 * At least once: a digest whose send failed is retried with its incidents still held; one that
 * was sent but not released yet is sent again by the retry. An incident acknowledged or resolved
 * while held leaves the set without a message.
 */

/** At most this many incidents are listed one by one; the digest counts the rest. */
export const DIGEST_LIST = 20;
/** How many held incidents are read at once. */
const READ_CONCURRENCY = 16;
/** Rounds of "release, then settle what was held meanwhile" before leaving it to a retry. */
const SETTLE_ATTEMPTS = 5;

/** The digest timer of a contact fired. */
export async function onDigest(
  event: { contact: string; due: number },
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const key = `${event.contact}#page`;
  const held = await deps.store.heldPages(key);
  // Moved to another time (that timer acts), or already sent and cleared.
  if (held.due !== event.due) return 'stale';
  const now = deps.clock();
  const target = contactOf(event.contact, deps);
  // Still nobody's, and not quieted by a maintenance window since (escalation stopped).
  const waiting = (await readAll(held.incidentIds, deps))
    .filter((i) => i.status === 'triggered' && i.escalation !== 'stopped')
    .sort(mostUrgentFirst);
  // (Overflow alone is not sent: those incidents are not named, and their escalation goes on.)
  if (waiting.length > 0 && target !== undefined) {
    const rules = throttleRules(target.contact.type, 'page');
    let refused: readonly number[] = [];
    const allowed = await deps.store.takeThrottle(key, (history) => {
      const decision = throttle(history, rules, now.getTime());
      if (!decision.allowed) refused = history;
      return decision;
    });
    if (!allowed) {
      // Another page took the slot first: the digest waits for the next one.
      const next = later(retryAt(refused, rules, now.getTime()), now);
      if (await deps.store.moveDigest(key, event.due, next)) await scheduleDigest(event.contact, next, deps);
      return 'rescheduled';
    }
    const page = await digestPage(event, waiting, held.overflow, target, deps, now);
    try {
      await deps.pager.send(page);
    } catch (error) {
      await deps.store.takeThrottle(key, (history) => ({
        allowed: true,
        history: history.filter((t) => t !== now.getTime()),
      }));
      throw error;
    }
  }
  // Sent, or no longer waiting (acknowledged, resolved, deleted), or the contact is gone.
  await deps.store.releaseHeld(key, held, event.due);
  await settle(key, event, target?.contact, deps, now);
  return 'done';
}

/** After a release: clear the due time, or move it on for what was held since the read. */
async function settle(
  key: string,
  event: { contact: string; due: number },
  contact: Contact | undefined,
  deps: EscalationDeps,
  now: Date,
): Promise<void> {
  for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
    const after = await deps.store.heldPages(key);
    if (after.due !== event.due) return;
    if (after.incidentIds.length === 0 && after.overflow === 0) {
      // Fails only when a page was held between the read and this write: look again.
      if (await deps.store.moveDigest(key, event.due, undefined)) return;
      continue;
    }
    const rules = throttleRules(contact?.type ?? 'sms', 'page');
    const next = later(retryAt(after.history, rules, now.getTime()), now);
    if (await deps.store.moveDigest(key, event.due, next)) await scheduleDigest(event.contact, next, deps);
    return;
  }
  throw new Error(`digest ${key}: pages kept being held while it settled; retry`);
}

async function scheduleDigest(contact: string, due: number, deps: EscalationDeps) {
  await deps.timers.schedule(timer({ kind: 'digest', contact, due }, new Date(due)));
}

/** A due time strictly after `now`: a digest is never set for a moment already passed. */
function later(at: number, now: Date): number {
  return Math.max(at, now.getTime() + 1000);
}

function contactOf(key: string, deps: EscalationDeps) {
  for (const responder of deps.config.responders) {
    for (const [index, contact] of responder.contacts.entries()) {
      if (contactKey(responder.id, index) === key) return { responder, contact };
    }
  }
  return undefined;
}

async function readAll(ids: readonly string[], deps: EscalationDeps): Promise<Incident[]> {
  const found: Incident[] = [];
  for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
    const batch = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => deps.store.get(id)));
    for (const incident of batch) if (incident !== undefined) found.push(incident);
  }
  return found;
}

function mostUrgentFirst(a: Incident, b: Incident): number {
  return SEVERITIES.indexOf(a.sev) - SEVERITIES.indexOf(b.sev) || a.detectedAt.localeCompare(b.detectedAt);
}

async function digestPage(
  event: { contact: string; due: number },
  waiting: readonly Incident[],
  overflow: number,
  target: NonNullable<ReturnType<typeof contactOf>>,
  deps: EscalationDeps,
  now: Date,
): Promise<Page> {
  const { responder, contact } = target;
  const incidents: DigestEntry[] = await Promise.all(
    waiting.slice(0, DIGEST_LIST).map(async (incident) => ({
      ...pageIncident(incident, deps.config),
      links: {
        incident: deps.links.incidentUrl(incident.id),
        acknowledge: await deps.links.link(incident.id, 'ack', responder.id, now),
      },
    })),
  );
  const count = waiting.length + overflow;
  // biome-ignore lint/style/noNonNullAssertion: waiting is not empty
  const { links, ...first } = incidents[0]!;
  return {
    id: timelineEntryId('digest', event.contact, String(event.due)),
    kind: 'page',
    incident: first,
    responder: { id: responder.id, name: responder.name },
    contact: { ...contact, key: event.contact },
    reason: `Held by the page rate limit: ${count} incident${count === 1 ? '' : 's'} opened while your pages were paused`,
    links: { incident: links.incident },
    digest: { total: count, incidents },
  };
}
