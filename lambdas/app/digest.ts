import type { Contact } from '#core/config';
import { newDigestId, timelineEntryId } from '#core/ids';
import type { Incident, TimelineEntry } from '#core/incident';
import { contactKey, type DigestEntry, type Page, pageIncident } from '#core/page';
import { SEVERITIES } from '#core/severity';
import { retryAt, throttleClass, throttleRules } from '#core/throttle';
import { timer } from '#core/timers';
import type { EscalationDeps, TimerOutcome } from './escalation.ts';
import { LINK_TTL_MS } from './links.ts';
import { sendInSlot, takeSlot } from './throttled.ts';

/**
 * Theory of operation — digests (GoAlert's alert bundling).
 *
 * The per-contact throttle does not drop a page. When it refuses one, the incident joins the
 * contact's held set (its own item, next to the throttle history) and the set's `due` is the
 * moment the throttle allows a page again, unless one is due already. The rule that keeps a held
 * page from being stranded: **a digest timer is created before any write that names its due
 * time**. A holder creates the timer of the due time it computed (a warm process only once per
 * name), then holds; if another holder's earlier due time is kept, that one's timer exists too
 * (and this one fires as a no-op). Moving the due time works the same way.
 *
 * A timer is set at least a minute ahead, by a fresh clock, so it cannot fire before that write
 * lands (the functions time out in 10 s); should one ever find an earlier due time than its own
 * (whose timer is gone), it takes that one over.
 *
 * When the timer of the current due time fires, the held incidents still waiting (triggered, not
 * stopped by a maintenance window) go out in one message — through the throttle like any page,
 * so a digest counts as one page; if another page took the slot, the digest moves to the next —
 * and the set is released. What was held meanwhile moves the due time on; with nothing left it is
 * removed, conditional on the set being empty, so a page held at that moment finds no due time
 * and sets its own.
 *
 * At least once: a digest whose send failed is retried with its incidents still held; one that
 * was sent but not released yet is sent again by the retry. Past HELD_MAX incidents a contact's
 * held pages are counted (`overflow`, approximate: a retried hold counts twice), not named.
 *
 * A digest of more than one incident is kept (a DIG item with a new id, written once, before the
 * slot is taken) for its "acknowledge all" link, which acknowledges every incident that message
 * covered (command.ts: acknowledgeDigest). A retried digest is a new message with its own list.
 */

/** At most this many incidents are listed one by one; the digest counts the rest. */
export const DIGEST_LIST = 20;
/** The least time between creating a digest timer and its firing (functions time out in 10 s). */
export const DIGEST_LEAD_MS = 60_000;
/** How many held incidents are read at once. */
const READ_CONCURRENCY = 16;
/** Rounds of "release, then settle what was held meanwhile" before leaving it to a retry. */
const SETTLE_ATTEMPTS = 5;
/** Digest timers this process created, per timer port: a name is never created twice (due times only grow). */
const created = new WeakMap<object, Set<string>>();
const CREATED_MAX = 1000;

/** A page the throttle refused: the timer first, then the hold (see above). */
export async function holdForDigest(
  contact: string,
  incidentId: string,
  due: number,
  deps: EscalationDeps,
): Promise<void> {
  const at = later(due, deps);
  await scheduleDigest(contact, at, deps);
  await deps.store.holdPage(`${contact}#page`, incidentId, at);
}

/** The digest timer of a contact fired. */
export async function onDigest(
  event: { contact: string; due: number },
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const key = `${event.contact}#page`;
  const held = await deps.store.heldPages(key);
  // A later due time is current (its timer acts), or nothing is held. An earlier one whose
  // timer is gone (it fired before the write that named it landed) is taken over: any later
  // digest timer of the contact rescues it.
  const due = held.due;
  if (due === undefined || due > event.due) return 'stale';
  const current = { contact: event.contact, due };
  const now = deps.clock();
  const target = contactOf(event.contact, deps);
  // Still nobody's, and not quieted by a maintenance window since (escalation stopped).
  const waiting = (await readAll(held.incidentIds, deps))
    .filter((i) => i.status === 'triggered' && i.escalation !== 'stopped')
    .sort(mostUrgentFirst);
  // (Overflow alone is not sent: those incidents are not named, and their escalation goes on.)
  if (waiting.length > 0 && target !== undefined) {
    // Built (and its list kept) before the slot is taken: a failure here spends no slot.
    const page = await digestPage(current, waiting, held.overflow, target, deps, now);
    const rules = throttleRules(target.contact.type, 'page', deps.minuteMs);
    // A digest that holds a SEV-1/2 takes its slot from the urgent pages' history, as that page
    // alone would have: lower-severity pages never hold it back.
    const urgent = waiting.some((i) => throttleClass('page', i.sev) === 'urgent');
    const slotKey = urgent ? `${event.contact}#urgent` : key;
    const slot = await takeSlot(deps.store, slotKey, rules, now);
    if (!slot.allowed) {
      // Another page took the slot first: the digest waits for the next one.
      await moveTo(key, current, slot.retryAt, deps);
      return 'rescheduled';
    }
    await sendInSlot(deps, slotKey, page, now);
    // On each incident's timeline, before the release: a retry after a failure here sends again
    // (as after any failure past the send), and rewrites the same entries (stamped with the due time).
    await deps.store.putTimelineEntries(waiting.map((incident) => digestedEntry(incident, page, due)));
  }
  // Sent, or no longer waiting (acknowledged, resolved, deleted), or the contact is gone.
  await deps.store.releaseHeld(key, held, due);
  await settle(key, current, target?.contact, deps, now);
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
    if (after.incidentIds.length === 0 && after.overflow <= 0) {
      // Fails only when a page was held between the read and this write: look again.
      if (await deps.store.moveDigest(key, event.due, undefined)) return;
      continue;
    }
    const rules = throttleRules(contact?.type ?? 'sms', 'page', deps.minuteMs);
    await moveTo(key, event, retryAt(after.history, rules, now.getTime()), deps);
    return;
  }
  throw new Error(`digest ${key}: pages kept being held while it settled; retry`);
}

/** Moves the digest from `event.due` to `due`: its timer first, then the write that names it. */
async function moveTo(
  key: string,
  event: { contact: string; due: number },
  due: number,
  deps: EscalationDeps,
): Promise<void> {
  const at = later(due, deps);
  await scheduleDigest(event.contact, at, deps);
  await deps.store.moveDigest(key, event.due, at);
}

async function scheduleDigest(contact: string, due: number, deps: EscalationDeps): Promise<void> {
  const digest = timer({ kind: 'digest', contact, due }, new Date(due));
  const names = created.get(deps.timers) ?? new Set<string>();
  created.set(deps.timers, names);
  if (names.has(digest.name)) return;
  await deps.timers.schedule(digest);
  if (names.size >= CREATED_MAX) names.clear();
  names.add(digest.name);
}

/**
 * A due time at least DIGEST_LEAD_MS after now, by a clock read here (not the caller's `now`,
 * which a long invocation leaves behind): a function times out long before its timer could fire
 * ahead of the write that names it.
 */
function later(at: number, deps: EscalationDeps): number {
  return Math.max(at, deps.clock().getTime() + DIGEST_LEAD_MS);
}

/**
 * The timeline's record that this digest paged the incident's responder: one per contact and due
 * time, so a re-sent digest rewrites it. Not in `paged`: the notices that list feeds (acknowledged,
 * resolved) would then go out for every incident of a digest, a storm of its own.
 */
function digestedEntry(incident: Incident, page: Page, due: number): TimelineEntry {
  const others = (page.digest?.total ?? 1) - 1;
  return {
    id: timelineEntryId(incident.id, 'DIGESTED', page.id),
    incidentId: incident.id,
    at: new Date(due).toISOString(),
    type: 'DIGESTED',
    who: 'klaxon',
    text: `${page.responder.name} paged by ${page.contact.type} in a digest of held pages${
      others > 0 ? ` (with ${others} other incident${others === 1 ? '' : 's'})` : ''
    }`,
  };
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
  // Kept (before it is sent) for its "acknowledge all" link, which expires with the others. A
  // retried digest is a new message with its own list (what it covers may have changed).
  const id = newDigestId();
  const acknowledgeAll =
    waiting.length > 1
      ? {
          link: await deps.links.digestLink(id, responder.id, now),
          count: waiting.length,
        }
      : undefined;
  if (acknowledgeAll !== undefined)
    await deps.store.putDigest(
      {
        id,
        contact: event.contact,
        responderId: responder.id,
        incidentIds: waiting.map((i) => i.id),
        sentAt: now.toISOString(),
      },
      new Date(now.getTime() + LINK_TTL_MS),
    );
  const incidents: DigestEntry[] = await Promise.all(
    waiting.slice(0, DIGEST_LIST).map(async (incident) => ({
      ...pageIncident(incident, deps.config),
      links: {
        incident: await deps.links.viewLink(incident.id, responder.id, now),
        acknowledge: await deps.links.link(incident.id, 'ack', responder.id, now),
      },
    })),
  );
  const count = waiting.length + Math.max(0, overflow);
  // biome-ignore lint/style/noNonNullAssertion: waiting is not empty
  const { links, ...first } = incidents[0]!;
  return {
    id: timelineEntryId('digest', event.contact, String(event.due)),
    kind: 'page',
    incident: first,
    responder: { id: responder.id, name: responder.name },
    contact: { ...contact, key: event.contact },
    reason: `Held by the page rate limit: ${count} incident${count === 1 ? '' : 's'} waiting while your pages were paused`,
    // The most urgent incident's signed links: the SMS of a digest of one incident carries them;
    // with more, it carries `acknowledgeAll`.
    links,
    digest: { total: count, incidents, ...(acknowledgeAll ? { acknowledgeAll } : {}) },
  };
}
