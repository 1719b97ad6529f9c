import { Hono } from 'hono/tiny';
import type * as z from 'zod/mini';
import {
  acknowledgeIncident,
  addActionItem,
  addNote,
  assignRole,
  type CommandDeps,
  changeSeverity,
  createIncident,
  handOff,
  mitigateIncident,
  publishPostmortem,
  removeRole,
  resolveIncident,
  snoozeIncident,
  tickChecklist,
  updateActionItem,
} from '#app/command';
import { escalateNow } from '#app/escalation';
import { checklistView, isChecklistItem, renderChecklist } from '#core/checklists';
import { warRoomName } from '#core/classification';
import {
  ActionItemCreateSchema,
  ActionItemUpdateSchema,
  ActorSchema,
  ChecklistTickSchema,
  CreateIncidentSchema,
  EscalateSchema,
  HandoffSchema,
  MitigateSchema,
  ResolveSchema,
  RoleAssignSchema,
  RoleRemoveSchema,
  SeverityChangeSchema,
  SnoozeSchema,
  TimelineNoteSchema,
} from '#core/commands';
import type { ServiceConfig } from '#core/config';
import { NotFoundError } from '#core/errors';
import { type Incident, postmortemDueAt, postmortemRequired, renderTimelineEntry } from '#core/incident';
import { localDay } from '#core/metrics';
import { type ActionItem, generatePostmortem, isOverdue } from '#core/postmortem';
import { parseOrThrow } from '#core/validation';
import { fail, jsonBody, type Log } from './errors.ts';
import {
  ActionItemsQuery,
  ExcludeBody,
  ListIncidentsQuery,
  PostmortemQuery,
  RolePath,
  SmePath,
} from './request-schemas.ts';

export interface Runbook {
  readonly href: string;
  readonly text?: string;
}

/**
 * An incident's runbooks: its service's `runbookUrl`, then the links of its first alert whose
 * text or address mentions "runbook" (any case); each address once.
 */
export function runbooksOf(
  incident: Pick<Incident, 'links'>,
  service: Pick<ServiceConfig, 'name' | 'runbookUrl'> | undefined,
): Runbook[] {
  const found: Runbook[] = [];
  if (service?.runbookUrl) found.push({ href: service.runbookUrl, text: `${service.name} runbook` });
  for (const link of incident.links ?? []) {
    if (!/runbook/i.test(`${link.text ?? ''} ${link.href}`)) continue;
    if (found.some((r) => r.href === link.href)) continue;
    found.push(link.text ? { href: link.href, text: link.text } : { href: link.href });
  }
  return found;
}

/**
 * The incident routes of the management API (mounted under /api, behind its auth): reading
 * incidents, the incident-command use cases, checklists, postmortems and action items.
 * Each route: parse → use case → respond.
 */
export function incidentRoutes(deps: CommandDeps, log: Log): Hono {
  const api = new Hono();
  const { config } = deps;
  const failed = (c: Parameters<typeof fail>[0], error: unknown) => fail(c, error, 'api', log);

  const incidentOf = async (id: string): Promise<Incident> => {
    const incident = await deps.store.get(id);
    if (incident === undefined) throw new NotFoundError(`no incident ${id}`);
    return incident;
  };
  const checklistOf = async (incident: Incident) =>
    checklistView({
      incident,
      timeline: await deps.store.timeline(incident.id),
      actionItems: await deps.actionItems.actionItems(incident.id),
      now: deps.clock(),
    });

  api.get('/incidents', async (c) => {
    try {
      const query = parseOrThrow(ListIncidentsQuery, c.req.query(), 'query');
      return c.json(await deps.store.list(query));
    } catch (error) {
      return failed(c, error);
    }
  });

  api.post('/incidents', async (c) => {
    try {
      const input = parseOrThrow(CreateIncidentSchema, await jsonBody(c.req.raw), 'incident');
      const result = await createIncident(input, deps);
      // A retry with the same key finds what the first request created: 200, not 201.
      return c.json(result, result.created ? 201 : 200);
    } catch (error) {
      return failed(c, error);
    }
  });

  api.get('/incidents/:id', async (c) => {
    try {
      const incident = await incidentOf(c.req.param('id'));
      const [timeline, actionItems] = await Promise.all([
        deps.store.timeline(incident.id),
        deps.actionItems.actionItems(incident.id),
      ]);
      const dueAt = postmortemDueAt(incident);
      return c.json({
        incident,
        warRoom: warRoomName(incident.title, incident.detectedAt, config.timeZone),
        timeline,
        rendered: timeline.map((e) => renderTimelineEntry(e, config.timeZone)),
        checklist: checklistView({ incident, timeline, actionItems, now: deps.clock() }),
        runbooks: runbooksOf(
          incident,
          config.services.find((s) => s.id === incident.service),
        ),
        actionItems,
        postmortem: {
          required: postmortemRequired(incident),
          ...(dueAt === undefined ? {} : { dueAt }),
          ...(incident.postmortemDoneAt === undefined ? {} : { doneAt: incident.postmortemDoneAt }),
        },
        // The zone `rendered` is in: a client shows the view's other times in it too.
        timeZone: config.timeZone,
      });
    } catch (error) {
      return failed(c, error);
    }
  });

  // The lifecycle and war-room commands: 200 {incident, changed}.
  /** POST /incidents/:id/<path>: the body parsed with `schema` (`what`, in its errors), then `run`. */
  const command = <S extends z.ZodMiniType>(
    path: string,
    schema: S,
    what: string,
    run: (id: string, input: z.output<S>, deps: CommandDeps) => Promise<object>,
  ) =>
    api.post(`/incidents/:id/${path}`, async (c) => {
      try {
        return c.json(
          await run(c.req.param('id'), parseOrThrow(schema, await jsonBody(c.req.raw), what), deps),
        );
      } catch (error) {
        return failed(c, error);
      }
    });
  command('acknowledge', ActorSchema, 'acknowledgement', (id, { who }) => acknowledgeIncident(id, who, deps));
  command('mitigate', MitigateSchema, 'mitigation', mitigateIncident);
  command('resolve', ResolveSchema, 'resolve', resolveIncident);
  command('escalate', EscalateSchema, 'escalation', escalateNow);
  command('snooze', SnoozeSchema, 'snooze', snoozeIncident);
  command('severity', SeverityChangeSchema, 'severity change', changeSeverity);
  command('roles', RoleAssignSchema, 'role assignment', assignRole);
  // Taking a role away: a single role with `from`, as assigning it; an SME by name.
  api.delete('/incidents/:id/roles/sme/:person', async (c) => {
    try {
      const { person } = parseOrThrow(SmePath, { person: c.req.param('person') }, 'path');
      const { who } = parseOrThrow(ActorSchema, await jsonBody(c.req.raw), 'role removal');
      return c.json(await removeRole(c.req.param('id'), { role: 'sme', person, who }, deps));
    } catch (error) {
      return failed(c, error);
    }
  });
  api.delete('/incidents/:id/roles/:role', async (c) => {
    try {
      const { role } = parseOrThrow(RolePath, { role: c.req.param('role') }, 'path');
      const input = parseOrThrow(RoleRemoveSchema, await jsonBody(c.req.raw), 'role removal');
      return c.json(await removeRole(c.req.param('id'), { role, ...input }, deps));
    } catch (error) {
      return failed(c, error);
    }
  });
  command('handoff', HandoffSchema, 'handoff', handOff);

  // Anyone on the incident adds to its timeline: [HH:MM] [@who] [TYPE] text.
  api.post('/incidents/:id/timeline', async (c) => {
    try {
      const input = parseOrThrow(TimelineNoteSchema, await jsonBody(c.req.raw), 'timeline entry');
      const { entry, created } = await addNote(c.req.param('id'), input, deps);
      // A retry with the same key finds what the first request created: 200, not 201.
      return c.json({ entry, rendered: renderTimelineEntry(entry, config.timeZone) }, created ? 201 : 200);
    } catch (error) {
      return failed(c, error);
    }
  });

  api.get('/incidents/:id/checklist', async (c) => {
    try {
      const view = await checklistOf(await incidentOf(c.req.param('id')));
      return c.json({ ...view, rendered: renderChecklist(view, config.timeZone) });
    } catch (error) {
      return failed(c, error);
    }
  });
  api.post('/incidents/:id/checklist/:item', async (c) => {
    try {
      const item = c.req.param('item');
      if (!isChecklistItem(item)) throw new NotFoundError(`no checklist item "${item}"`);
      const input = parseOrThrow(ChecklistTickSchema, await jsonBody(c.req.raw), 'checklist tick');
      const result = await tickChecklist(c.req.param('id'), item, input, deps);
      return c.json({ ...result, checklist: await checklistOf(result.incident) });
    } catch (error) {
      return failed(c, error);
    }
  });

  // A blameless postmortem draft in Markdown, with the blameless check's findings.
  api.get('/incidents/:id/postmortem', async (c) => {
    try {
      const query = parseOrThrow(PostmortemQuery, c.req.query(), 'query');
      const incident = await incidentOf(c.req.param('id'));
      const postmortem = generatePostmortem({
        incident,
        serviceName: config.services.find((s) => s.id === incident.service)?.name ?? incident.service,
        timeline: await deps.store.timeline(incident.id),
        timeZone: config.timeZone,
        template: query.template,
        authors: query.authors
          ? query.authors
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean)
          : [],
        actionItems: await deps.actionItems.actionItems(incident.id),
        names: config.responders.flatMap((r) => [r.name, r.id]),
      });
      if (c.req.header('accept')?.includes('application/json')) return c.json(postmortem);
      return c.text(postmortem.markdown, 200, { 'content-type': 'text/markdown; charset=utf-8' });
    } catch (error) {
      return failed(c, error);
    }
  });
  command('postmortem/publish', ActorSchema, 'publication', (id, { who }) =>
    publishPostmortem(id, who, deps),
  );

  // Action items, tracked to done.
  api.get('/incidents/:id/action-items', async (c) => {
    try {
      // The filter of the list across incidents, so that one incident's list takes it too.
      const { status } = parseOrThrow(ActionItemsQuery, c.req.query(), 'query');
      const incident = await incidentOf(c.req.param('id'));
      const items = await deps.actionItems.actionItems(incident.id);
      return c.json({
        actionItems: withOverdue(
          items.filter((i) => status === undefined || i.status === status),
          deps,
        ),
      });
    } catch (error) {
      return failed(c, error);
    }
  });
  api.post('/incidents/:id/action-items', async (c) => {
    try {
      const input = parseOrThrow(ActionItemCreateSchema, await jsonBody(c.req.raw), 'action item');
      const { actionItem, created } = await addActionItem(c.req.param('id'), input, deps);
      return c.json({ actionItem }, created ? 201 : 200);
    } catch (error) {
      return failed(c, error);
    }
  });
  api.patch('/incidents/:id/action-items/:item', async (c) => {
    try {
      const input = parseOrThrow(ActionItemUpdateSchema, await jsonBody(c.req.raw), 'action item update');
      const actionItem = await updateActionItem(c.req.param('id'), c.req.param('item'), input, deps);
      return c.json({ actionItem });
    } catch (error) {
      return failed(c, error);
    }
  });
  api.get('/action-items', async (c) => {
    try {
      const query = parseOrThrow(ActionItemsQuery, c.req.query(), 'query');
      return c.json({ actionItems: withOverdue(await deps.actionItems.listActionItems(query), deps) });
    } catch (error) {
      return failed(c, error);
    }
  });

  // Leave an incident out of the metrics (a drill, a duplicate), or put it back.
  api.post('/incidents/:id/exclude', async (c) => {
    try {
      const { excluded } = parseOrThrow(ExcludeBody, await jsonBody(c.req.raw), 'body');
      const incident = await deps.store.setExcluded(c.req.param('id'), excluded);
      if (incident === undefined) throw new NotFoundError(`no incident ${c.req.param('id')}`);
      return c.json({ incident });
    } catch (error) {
      return failed(c, error);
    }
  });

  return api;
}

/**
 * Each item with `overdue`: still open past its deadline, a day in the team's zone (PRACTICE:
 * "follow up on action items" — the list says which are late).
 */
function withOverdue<T extends Pick<ActionItem, 'status' | 'deadline'>>(
  items: readonly T[],
  deps: { clock: () => Date; config: { timeZone: string } },
): (T & { overdue: boolean })[] {
  const today = localDay(deps.clock(), deps.config.timeZone);
  return items.map((item) => ({ ...item, overdue: isOverdue(item, today) }));
}
