import type { KlaxonConfig } from '#core/config';
import { localDay } from '#core/metrics';
import { contactKey, type Page } from '#core/page';
import type { AckLinks } from './links.ts';
import type { ActionItemRecord, ActionItemStore, Clock, IncidentStore, Pager } from './ports.ts';

/**
 * Postmortem action items are followed up (PRACTICE: "Follow up on action items"; "Ignore action
 * item completion → same incidents repeat"): once a night, the owner of an open item whose
 * deadline passed is told — the day after the deadline, then every REMIND_EVERY_DAYS days while
 * it stays open — in one notice per owner listing their items due for a reminder that night.
 * Email and webhook contacts only: it runs with the nightly rollup, and an action item is not worth
 * a text at 01:30. An owner who is not a responder of the config cannot be reached and is skipped.
 * Once per owner and day, however often the night is re-run (a claim, completed after sending;
 * a claim never completed is made again).
 */
export const REMIND_EVERY_DAYS = 7;
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

/** Whether an item whose deadline was `deadline` is reminded on `today` (both YYYY-MM-DD). */
export function remindedOn(deadline: string, today: string): boolean {
  const late = Math.round(
    (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${deadline}T00:00:00Z`)) / 86_400_000,
  );
  return late >= 1 && (late - 1) % REMIND_EVERY_DAYS === 0;
}

/** Tells each owner of overdue items due for a reminder tonight; returns who was told. */
export async function remindActionItems(deps: FollowUpDeps): Promise<string[]> {
  const now = deps.clock();
  const today = localDay(now, deps.config.timeZone);
  const due = (await deps.actionItems.listActionItems({ status: 'open' })).filter((i) =>
    remindedOn(i.deadline, today),
  );
  const byOwner = new Map<string, ActionItemRecord[]>();
  for (const item of due) byOwner.set(item.owner, [...(byOwner.get(item.owner) ?? []), item]);
  const titles = new Map<string, string>();
  const told: string[] = [];
  for (const [ownerId, items] of [...byOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const owner = deps.config.responders.find((r) => r.id === ownerId);
    if (owner === undefined) continue;
    if (!(await deps.actionItems.claimFollowUp(ownerId, today, now))) continue;
    for (const item of items.slice(0, LISTED))
      if (!titles.has(item.incidentId))
        titles.set(item.incidentId, (await deps.store.get(item.incidentId))?.title ?? item.incidentId);
    const lines = items
      .slice(0, LISTED)
      .map((i) => `- ${i.action} (due ${i.deadline}; incident ${i.incidentId}: ${titles.get(i.incidentId)})`);
    if (items.length > LISTED) lines.push(`… and ${items.length - LISTED} more`);
    lines.push('', 'Finish them, or move their deadline: klaxon actions list --status open');
    const title = `${items.length} action item${items.length === 1 ? '' : 's'} past ${items.length === 1 ? 'its' : 'their'} deadline`;
    for (const [index, contact] of owner.contacts.entries()) {
      if (contact.type === 'sms') continue;
      const page: Page = {
        id: `actions-${ownerId}-${today}-${contactKey(owner.id, index)}`,
        kind: 'notice',
        incident: {
          id: `actions-${ownerId}-${today}`,
          title,
          service: '*',
          serviceName: 'Postmortem action items',
          severity: 'SEV-4',
          status: 'triggered',
          detectedAt: now.toISOString(),
          alertCount: 0,
          source: 'Klaxon: action items',
          alertLinks: [],
          description: lines.join('\n'),
        },
        responder: { id: owner.id, name: owner.name },
        contact: { ...contact, key: contactKey(owner.id, index) },
        reason: 'Overdue',
        links: { incident: `${deps.links.publicUrl}/api/action-items?status=open` },
      };
      await deps.pager.send(page);
    }
    await deps.actionItems.completeFollowUp(ownerId, today);
    told.push(ownerId);
  }
  return told;
}
