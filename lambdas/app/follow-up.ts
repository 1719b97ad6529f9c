import type { KlaxonConfig } from '#core/config';
import { addDays, daysFrom } from '#core/metrics';
import { contactKey, type Page } from '#core/page';
import type { AckLinks } from './links.ts';
import type { ActionItemRecord, ActionItemStore, Clock, IncidentStore, Pager } from './ports.ts';

/**
 * Postmortem action items are followed up (PRACTICE: "Follow up on action items"; "Ignore action
 * item completion → same incidents repeat"). Each night's run tells the owner of every open item
 * whose deadline passed: the first night after the deadline, then again once REMIND_EVERY_DAYS
 * days passed since the last time (each item keeps `remindedOn`, so a missed night is made up by
 * the next) — in one notice per owner listing the items due for a reminder.
 * - Email and webhook contacts only: it runs with the nightly rollup, and an action item is not
 *   worth a text at 01:30. An owner with neither, or who is not a responder, is not told (their
 *   items stay due, and `klaxon metrics` lists them as overdue).
 * - Items of incidents excluded from metrics (drills, tests) are left alone, as in the metrics.
 * - One sender per notice: each (contact, night) is claimed before it is sent and completed
 *   after, so a retried or doubled run does not send it again; a claim whose sender died is
 *   taken over after FOLLOW_UP_LEASE_MS. The items are marked reminded once every contact of
 *   their owner was told.
 */
export const REMIND_EVERY_DAYS = 7;
/** Longer than sending one notice takes; shorter than the next retry of a failed night. */
export const FOLLOW_UP_LEASE_MS = 5 * 60_000;
/** Items listed by name in one notice; the rest are counted. */
const LISTED = 10;

export interface FollowUpDeps {
  readonly actionItems: ActionItemStore;
  readonly store: Pick<IncidentStore, 'get'>;
  readonly config: KlaxonConfig;
  readonly clock: Clock;
  readonly pager: Pager;
  readonly links: Pick<AckLinks, 'publicUrl'>;
}

/** Whether the owner of `item` is reminded of it on `today` (YYYY-MM-DD, the team's zone). */
export function dueForReminder(
  item: Pick<ActionItemRecord, 'status' | 'deadline' | 'remindedOn'>,
  today: string,
): boolean {
  if (item.status !== 'open' || daysFrom(item.deadline, today) < 1) return false;
  return item.remindedOn === undefined || daysFrom(item.remindedOn, today) >= REMIND_EVERY_DAYS;
}

/**
 * The follow-up of the night after `day` (the day the nightly run rolls up: its night's date is
 * the next, whenever a retry runs). Returns the owners told.
 */
export async function remindActionItems(day: string, deps: FollowUpDeps): Promise<string[]> {
  const today = addDays(day, 1);
  const due = (await deps.actionItems.listActionItems({ status: 'open' })).filter((i) =>
    dueForReminder(i, today),
  );
  const incidents = new Map<string, { title: string; excluded: boolean } | undefined>();
  for (const id of new Set(due.map((i) => i.incidentId))) incidents.set(id, await deps.store.get(id));
  const byOwner = new Map<string, ActionItemRecord[]>();
  for (const item of due) {
    if (incidents.get(item.incidentId)?.excluded === true) continue;
    byOwner.set(item.owner, [...(byOwner.get(item.owner) ?? []), item]);
  }
  const told: string[] = [];
  for (const [ownerId, items] of [...byOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const owner = deps.config.responders.find((r) => r.id === ownerId);
    const contacts = (owner?.contacts ?? []).flatMap((contact, index) =>
      contact.type === 'sms' ? [] : [{ contact, key: contactKey(ownerId, index) }],
    );
    if (owner === undefined || contacts.length === 0) continue;
    // Oldest deadline first, then as they were added (then by name: one order every night).
    items.sort(
      (a, b) =>
        a.deadline.localeCompare(b.deadline) ||
        a.createdAt.localeCompare(b.createdAt) ||
        a.action.localeCompare(b.action),
    );
    const listed = items.slice(0, LISTED).map((i) => {
      const title = incidents.get(i.incidentId)?.title ?? i.incidentId;
      return `- ${i.action} (due ${i.deadline}; incident ${i.incidentId}: ${title})`;
    });
    if (items.length > LISTED) listed.push(`… and ${items.length - LISTED} more`);
    listed.push('', 'Finish them, or move their deadline: klaxon actions list --status open');
    let all = true;
    for (const { contact, key } of contacts) {
      const claim = `${today}#${key}`;
      const now = deps.clock();
      const claimed = await deps.actionItems.claimFollowUp(claim, now, FOLLOW_UP_LEASE_MS);
      // Sent already (a retried night); or being sent by a doubled run, which marks the items.
      if (claimed === 'held') all = false;
      if (claimed !== 'claimed') continue;
      const page: Page = {
        id: `actions-${ownerId}-${today}-${key}`,
        kind: 'notice',
        incident: {
          id: `actions-${ownerId}-${today}`,
          title: `${items.length} action item${items.length === 1 ? '' : 's'} past ${items.length === 1 ? 'its' : 'their'} deadline`,
          service: '*',
          serviceName: 'Postmortem action items',
          severity: 'SEV-4',
          status: 'triggered',
          detectedAt: now.toISOString(),
          alertCount: 0,
          source: 'Klaxon: action items',
          alertLinks: [],
          description: listed.join('\n'),
        },
        responder: { id: owner.id, name: owner.name },
        contact: { ...contact, key },
        reason: 'Overdue',
        links: { incident: `${deps.links.publicUrl}/api/action-items?status=open` },
      };
      await deps.pager.send(page);
      await deps.actionItems.completeFollowUp(claim);
    }
    // Every contact told (now, or by an earlier attempt of this night): the items wait a week
    // now. One still held by a doubled run is left to that run to mark.
    if (!all) continue;
    for (const item of items) await deps.actionItems.markReminded(item.incidentId, item.id, today);
    told.push(ownerId);
  }
  return told;
}
