import type { KlaxonConfig } from '#core/config';
import {
  CONTACT_UNREACHABLE,
  type ContactProblem,
  contactEndpoints,
  contactProblems,
  contactUnreachableDetail,
  unreachableCount,
} from '#core/contacts';
import type { Clock, ContactDirectory, EventPublisher, MetricsPublisher } from './ports.ts';

/**
 * The contact check (hourly in AWS, on its own schedule of the rollup function): are the
 * configured contacts still reachable? Each problem is reported (`warn`, then a "Contact
 * Unreachable" event), and `UnreachableContacts` is published every run, 0 included, so that its
 * alarm always has data. It changes nothing, and a problem it finds is its result, not an error:
 * only the directory failing (throttled, denied) throws, so that the schedule retries the run.
 */
export interface ContactCheckDeps {
  readonly config: KlaxonConfig;
  readonly directory: ContactDirectory;
  readonly events: EventPublisher;
  readonly metrics: Pick<MetricsPublisher, 'publishUnreachableContacts'>;
  readonly clock: Clock;
  /** One structured warning per problem, before anything is published. */
  readonly warn: (message: string, data: Record<string, unknown>) => void;
}

export interface ContactCheckResult {
  readonly checkedAt: string;
  /** Contacts checked (contact keys). */
  readonly contacts: number;
  /** Of those, how many have a problem. */
  readonly unreachable: number;
  readonly problems: ContactProblem[];
}

/**
 * `checkedAt`: the time the run was scheduled for (a retry carries the same, so its events carry
 * the same ids); the clock's now when invoked by hand.
 */
export async function checkContacts(deps: ContactCheckDeps, checkedAt?: Date): Promise<ContactCheckResult> {
  const at = (checkedAt ?? deps.clock()).toISOString();
  const endpoints = contactEndpoints(deps.config.responders);
  const problems = contactProblems(endpoints, await deps.directory.report(endpoints));
  for (const problem of problems) deps.warn('contact unreachable', { ...problem });
  for (const problem of problems)
    await deps.events.publish(CONTACT_UNREACHABLE, contactUnreachableDetail(problem, at));
  const unreachable = unreachableCount(problems);
  await deps.metrics.publishUnreachableContacts(unreachable);
  return {
    checkedAt: at,
    contacts: endpoints.reduce((n, e) => n + e.keys.length, 0),
    unreachable,
    problems,
  };
}
