import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import * as z from 'zod/mini';
import type { ActionItemRecord, MaintenanceWindow } from '#app/ports';
import type { ChecklistView } from '#core/checklists';
import { type Classification, impactLine } from '#core/classification';
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
import {
  INCIDENT_STATUSES,
  type Incident,
  PEOPLE_ENTRY_TYPES,
  POSTMORTEM_DUE_HOURS,
  postmortemDueAt,
  ROLE_NAMES,
  ROLES,
  type Role,
  snoozedUntil,
  type TimelineEntry,
} from '#core/incident';
import type { ScheduleOverride } from '#core/oncall';
import { ACTION_CATEGORIES, POSTMORTEM_TEMPLATES } from '#core/postmortem';
import { SEVERITIES } from '#core/severity';
import { dateTimeFormat } from '#core/wall-clock';
import {
  ActionItemsQuery,
  CreateMaintenance,
  ListIncidentsQuery,
  OverrideBody,
  RolePath,
  SmePath,
} from '#http/request-schemas';
import { type ApiClient, apiClient, apiPath, notApplying, UsageError } from './client.ts';

/**
 * The incident commands of the `klaxon` CLI (the practice's create_incident.py and
 * generate_postmortem.py), and those of on-call schedules and maintenance windows: each builds
 * the request body of its use case, checks it with the
 * same zod schema the API parses it with (so a mistake names the flag before any request), calls
 * the management API and prints the outcome — or, with `--json`, the API's response.
 */

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

type Values = Record<string, string | boolean | undefined>;
type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

interface Context {
  readonly values: Values;
  /** The positionals after the command's words, checked against its `args`. */
  readonly args: readonly string[];
  readonly io: Io;
  readonly json: boolean;
  /** The API client, created on first use (after the input was checked). */
  readonly api: () => ApiClient;
  /** --who, else KLAXON_USER, else the OS user name. */
  readonly who: () => string | undefined;
}

interface Command {
  /** The synopsis after `klaxon `. */
  readonly usage: string;
  readonly summary: string;
  /** More help: what it does, each option. */
  readonly details: string;
  readonly options?: ParseArgsOptionsConfig;
  /** Positional names: `<id>` required, `[<id>]` optional, `<text…>` one or more (last). */
  readonly args: readonly string[];
  readonly run: (ctx: Context) => Promise<number>;
}

const str = { type: 'string' } as const;
const bool = { type: 'boolean', default: false } as const;

const TARGET_OPTIONS = {
  url: str,
  token: str,
  endpoint: str,
  region: str,
  json: bool,
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsOptionsConfig;

const WHO = { who: str } as const;

export const TARGET_HELP = `Target (default: the local runtime, npm start):
  --url <url>          a running local Klaxon (default KLAXON_URL, else port PORT or 3000 on 127.0.0.1)
  --token <token>      its bearer token (default KLAXON_API_TOKEN, else $KLAXON_DATA_DIR/secrets.json)
  --endpoint <url>     a deployed stack's API (https://<id>.execute-api.<region>.amazonaws.com/):
                       requests are signed with SigV4 (execute-api) with your AWS credentials
  --region <region>    its region (default AWS_REGION, else the one in the endpoint's host name)
  (--url and --token apply to the local runtime only, --region to --endpoint only)
  --json               print the API's JSON response instead of text
`;

const WHO_HELP = '  --who <handle>       who does it (default KLAXON_USER, else your OS user name)\n';

// ---------------------------------------------------------------------------------------------
// Checking input: the API's schemas, with errors named by the flag that carries the field.

/** Parses `body` with `schema`; a failure names the flags (`labels`: field path → flag). */
function check<S extends z.ZodMiniType>(
  schema: S,
  body: unknown,
  labels: Record<string, string>,
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const messages = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const label = labels[field] ?? field;
    return issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined
      ? `${label} is required`
      : `${label}: ${issue.message}`;
  });
  throw new UsageError([...new Set(messages)].join('; '));
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

const string = (values: Values, name: string) => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

/** A number flag, forgiving `60%`, `$12,000` and `/h`. */
function numberFlag(values: Values, name: string, what: string): number | undefined {
  const raw = string(values, name);
  if (raw === undefined) return undefined;
  const cleaned = raw
    .replace(/^\$/, '')
    .replace(/(%|\/h)$/, '')
    .replaceAll(',', '')
    .trim();
  const n = cleaned === '' ? Number.NaN : Number(cleaned);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected ${what}, got "${raw}"`);
  return n;
}

const TIME_HELP = `  (a time: 2026-11-28T09:00+01:00 or …Z; 2026-11-28 09:00, in your time zone; now; +30m, +2h, +1d)
`;

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration flag's milliseconds: `30m`, `8h`, `2d`. */
function durationMs(raw: string, flag: string): number {
  const match = DURATION.exec(raw.trim());
  if (match === null)
    throw new UsageError(`${flag}: expected a duration such as 30m, 8h or 2d, got "${raw}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/**
 * A time flag as the API takes it (ISO 8601 in UTC): an instant with its offset, a date and time
 * in the user's zone (the CLI's, as every time it prints), `now`, or `+<duration>` from now.
 */
function timeFlag(values: Values, name: string, now = Date.now()): string | undefined {
  const raw = string(values, name)?.trim();
  if (raw === undefined) return undefined;
  let ms = Number.NaN;
  if (raw === 'now') ms = now;
  else if (raw.startsWith('+')) ms = now + durationMs(raw.slice(1), `--${name}`);
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i.test(raw)) {
    // Without an offset, JavaScript reads a date and time as local: the user's zone.
    const iso = raw.replace(/[ t]/i, 'T').replace(/z$/, 'Z');
    const [, y, mo, d, h, mi] = (/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso) ?? []).map(Number);
    // Date.parse rolls 2026-02-30 over into March (with an offset too): the date must exist.
    const calendar = new Date(Date.UTC(y ?? 0, (mo ?? 0) - 1, d ?? 0));
    const exists =
      calendar.getUTCFullYear() === y &&
      calendar.getUTCMonth() + 1 === mo &&
      calendar.getUTCDate() === d &&
      (h ?? 24) < 24 &&
      (mi ?? 60) < 60;
    const local = new Date(iso);
    if (exists && /(Z|[+-]\d{2}:\d{2})$/i.test(iso)) ms = local.getTime();
    else if (exists) {
      // A local time the clocks jump over (02:30 when summer time starts) is read as another one:
      // refused, rather than acted on at a time the user did not write.
      if (local.getHours() !== h || local.getMinutes() !== mi) {
        throw new UsageError(
          `--${name}: "${raw}" does not exist in your time zone (the clocks jump over it); give another time or an offset`,
        );
      }
      ms = local.getTime();
    }
  }
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--${name}: expected a time such as 2026-11-28T09:00+01:00, "2026-11-28 09:00" (your time zone), now or +2h, got "${raw}"`,
    );
  }
  return new Date(ms).toISOString();
}

/** --from (default now) and --to or --for (after --from), for a window or an override. */
function timeRange(values: Values): { from: string; to: string | undefined } {
  notBoth(values, 'to', 'for');
  const from = timeFlag(values, 'from') ?? new Date().toISOString();
  const length = string(values, 'for');
  const to =
    length === undefined
      ? timeFlag(values, 'to')
      : new Date(Date.parse(from) + durationMs(length, '--for')).toISOString();
  if (to === undefined) throw new UsageError('--to or --for is required');
  return { from, to };
}

function notBoth(values: Values, a: string, b: string): void {
  if (values[a] !== undefined && values[b] !== undefined) throw new UsageError(`--${a} and --${b}: give one`);
}

const WHO_LABEL = { who: '--who' };

// ---------------------------------------------------------------------------------------------
// What the API answers (lambdas/http): state changes answer {incident, changed}.

interface Changed {
  readonly incident: Incident;
  readonly changed: boolean;
  /** Who an escalation paged. */
  readonly paged?: readonly string[];
  /** The contacts whose throttle held an escalation's page (for a digest). */
  readonly held?: readonly string[];
}

/** GET …/schedules/<id>/oncall. */
interface OnCall {
  readonly schedule: string;
  readonly at: string;
  readonly onCall: readonly { id: string; name: string }[];
}

interface Created {
  readonly incident: Incident;
  /** false: a retry with the same key found the incident the first request opened. */
  readonly created?: boolean;
  readonly classification?: Classification;
  readonly warRoom?: string;
  readonly url?: string;
}

interface Shown {
  readonly incident: Incident;
  readonly warRoom?: string;
  readonly rendered?: string[];
  readonly runbooks?: { href: string; text?: string }[];
  readonly checklist?: ChecklistView;
  readonly actionItems?: ActionItemRecord[];
  readonly postmortem?: { required: boolean; dueAt?: string; doneAt?: string };
  /** The config's zone, the timeline's rendering's (absent from a stack deployed before it was sent). */
  readonly timeZone?: string;
}

/** GET …/checklist: the view, and its text rendering (which has no item ids). */
interface Checklist extends ChecklistView {
  readonly rendered?: string;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

const json = (io: Io, value: unknown) => io.stdout(`${JSON.stringify(value)}\n`);

/**
 * The parts of an instant in `timeZone` (the user's when not given), with the zone's short name:
 * every time the CLI prints names its zone (`14:05 CET`), since the times of one output may come
 * from two places — the server renders the timeline in the config's `timeZone`.
 */
function partsInZone(
  iso: string,
  timeZone: string | undefined,
): (type: Intl.DateTimeFormatPartTypes) => string {
  const parts = dateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).formatToParts(new Date(iso));
  return (type) => parts.find((p) => p.type === type)?.value ?? '';
}

/** HH:MM and the zone's short name (`14:05 CET`), in `timeZone` (default the user's). */
function clockInZone(iso: string, timeZone?: string): string {
  const part = partsInZone(iso, timeZone);
  return `${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** YYYY-MM-DD HH:MM and the zone's short name, in `timeZone` (default the user's). */
function dateTime(iso: string, timeZone?: string): string {
  const part = partsInZone(iso, timeZone);
  return `${part('year')}-${part('month')}-${part('day')} ${clockInZone(iso, timeZone)}`;
}

/** How long ago: 45s, 12m, 3h 05m, 2d 4h. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A text table: columns padded to their widest cell, the last one as is. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function rolesLine(incident: Incident): string {
  const roles = Object.entries(incident.roles ?? {}).map(
    ([role, who]) => `${ROLE_NAMES[role as Role]} @${who}`,
  );
  const smes = incident.smes ?? [];
  if (smes.length > 0) roles.push(`SMEs ${smes.map((s) => `@${s}`).join(', ')}`);
  return roles.length > 0 ? roles.join(', ') : 'none assigned';
}

/**
 * The server's rendering with each item's id after its box (`[x] acknowledge  Acknowledge alert`),
 * the id being what `checklist tick` takes; the view's own lines if the two do not line up.
 */
export function checklistText(checklist: Checklist): string {
  const items = checklist.phases.flatMap((p) => p.items);
  const width = Math.max(0, ...items.map((i) => i.id.length));
  const lines = (checklist.rendered ?? '').replace(/\n$/, '').split('\n');
  const boxes = lines.filter((l) => /^ {2}\[[x ]\] /.test(l));
  if (boxes.length !== items.length) {
    return `${checklist.phases
      .map((p) =>
        [p.title, ...p.items.map((i) => `  [${i.done ? 'x' : ' '}] ${i.id.padEnd(width)}  ${i.text}`)].join(
          '\n',
        ),
      )
      .join('\n\n')}\n`;
  }
  let n = 0;
  const withIds = lines.map((line) =>
    /^ {2}\[[x ]\] /.test(line)
      ? `${line.slice(0, 6)}${(items[n++]?.id ?? '').padEnd(width)}  ${line.slice(6)}`
      : line,
  );
  return `${withIds.join('\n')}\n`;
}

function checklistSummary(checklist: ChecklistView): string {
  const items = checklist.phases.flatMap((p) => p.items);
  const done = items.filter((i) => i.done).length;
  const next = items.find((i) => !i.done);
  return (
    `Checklist: ${done}/${items.length} done` +
    (checklist.overdue > 0 ? `, ${checklist.overdue} overdue` : '') +
    (next ? ` — next: ${next.text} (${next.id})` : '')
  );
}

// ---------------------------------------------------------------------------------------------
// The commands.

const incidentPath = (id: string, ...rest: string[]) => apiPath('incidents', id, ...rest);

/**
 * Runs a transition ({who, …} → {incident, changed}) and prints `describe`'s line; a warning the
 * answer carries (one person as incident commander and tech lead) goes to stderr.
 */
async function transition(
  ctx: Context,
  path: string,
  body: unknown,
  describe: (result: Changed) => string,
  method: 'POST' | 'DELETE' = 'POST',
): Promise<number> {
  const result = await ctx.api().json<Changed & { warning?: string }>({ method, path, body });
  if (ctx.json) json(ctx.io, result);
  else ctx.io.stdout(`${describe(result)}\n`);
  if (result.warning) ctx.io.stderr(`klaxon: warning: ${result.warning}\n`);
  return 0;
}

/**
 * The incident as it is now, for the `from` of a "set to X" command: the request then says what
 * it changes from, so the same request resent after someone else's change is refused (409), not
 * applied over it.
 */
async function currentIncident(ctx: Context, incidentId: string): Promise<Incident> {
  return (await ctx.api().json<Shown>({ method: 'GET', path: incidentPath(incidentId) })).incident;
}

const ID = '<id>';

const COMMANDS: Record<string, Command> = {
  create: {
    usage:
      'create --service <id> --title <text>\n(--severity SEV-1..4 | --users-affected <percent> --revenue-impact <dollars/h>\n --sla-risk yes|maybe|no) [--description <text>] [--who <handle>]',
    summary: 'Opens an incident by hand: severity given, or classified from the impact.',
    details: `Opens an incident for a service and pages its escalation policy. Give the severity, or
the impact to classify it from (the most severe indication wins: > 50% users, > $10K/h or an
SLA at risk is SEV-1; 10–50%, $1–10K/h or maybe SEV-2; 1–10%, < $1K/h SEV-3; else SEV-4), or
both: the more severe of the two.
Prints the id, the severity with the classification's reasons, the war room and the URL.

Options:
  --service <id>       the service (klaxon.config.json)
  --title <text>       what is wrong, as users see it
  --severity <SEV-n>   SEV-1 (critical) .. SEV-4 (minor)
  --users-affected <%> share of users affected, 0..100
  --revenue-impact <$> revenue lost per hour, in dollars
  --sla-risk <risk>    yes, maybe or no: is an SLA at risk?
  --description <text> more detail
${WHO_HELP}`,
    options: {
      service: str,
      title: str,
      severity: str,
      'users-affected': str,
      'revenue-impact': str,
      'sla-risk': str,
      description: str,
      ...WHO,
    },
    args: [],
    async run(ctx) {
      const v = ctx.values;
      const impact = {
        usersAffectedPercent: numberFlag(v, 'users-affected', 'a percentage of users (0..100)'),
        revenuePerHour: numberFlag(v, 'revenue-impact', 'dollars per hour'),
        slaRisk: string(v, 'sla-risk'),
      };
      const given = Object.fromEntries(Object.entries(impact).filter(([, x]) => x !== undefined));
      const severity = string(v, 'severity');
      if (severity === undefined && Object.keys(given).length === 0) {
        throw new UsageError(
          'give --severity SEV-1..4, or the impact to classify it from: --users-affected, --revenue-impact, --sla-risk',
        );
      }
      const body = check(
        CreateIncidentSchema,
        {
          service: string(v, 'service'),
          title: string(v, 'title'),
          ...(severity === undefined ? {} : { severity }),
          ...(Object.keys(given).length > 0 ? { impact: given } : {}),
          who: ctx.who(),
          ...(v.description === undefined ? {} : { description: string(v, 'description') }),
          // One key per invocation: a retried request finds the incident this one created.
          key: requestKey(),
        },
        {
          service: '--service',
          title: '--title',
          severity: '--severity',
          'impact.usersAffectedPercent': '--users-affected',
          'impact.revenuePerHour': '--revenue-impact',
          'impact.slaRisk': '--sla-risk',
          description: '--description',
          ...WHO_LABEL,
        },
      );
      const api = ctx.api();
      const created = await api.json<Created>({ method: 'POST', path: apiPath('incidents'), body });
      const { incident } = created;
      const warRoom =
        created.warRoom ??
        (await api.json<Shown>({ method: 'GET', path: incidentPath(incident.id) }).catch(() => undefined))
          ?.warRoom;
      const url = created.url ?? `${api.base.replace(/\/$/, '')}${incidentPath(incident.id)}`;
      if (ctx.json) {
        json(ctx.io, { ...created, ...(warRoom ? { warRoom } : {}), url });
        return 0;
      }
      const reasons = created.classification?.reasons ?? [];
      ctx.io.stdout(
        `${created.created === false ? 'Already open' : 'Opened'} incident ${incident.id}: ${incident.title}\n` +
          `  severity  ${incident.sev}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}\n` +
          (warRoom ? `  war room  ${warRoom}\n` : '') +
          // The management API's URL: it answers with credentials, not in a browser.
          `  api       ${url} (with credentials: klaxon show ${incident.id})\n`,
      );
      return 0;
    },
  },

  ack: {
    usage: 'ack <id> [--who <handle>]',
    summary: 'Acknowledges an incident: escalation stops, the ack timeout starts.',
    details: `Acknowledges the incident: you are on it. Escalation stops; an acknowledged incident
left unresolved past the service's ack timeout pages again.

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID],
    run(ctx) {
      const body = check(ActorSchema, { who: ctx.who() }, WHO_LABEL);
      const [incidentId = ''] = ctx.args;
      return transition(ctx, incidentPath(incidentId, 'acknowledge'), body, ({ incident, changed }) =>
        changed
          ? `${incident.id} acknowledged by @${body.who}`
          : `${incident.id} was already acknowledged (status ${incident.status})`,
      );
    },
  },

  escalate: {
    usage: 'escalate <id> [--who <handle>]',
    summary: 'Escalates a triggered incident now: the policy’s next level is paged at once.',
    details: `Runs the escalation policy's next step now instead of at its time: the next level is
paged (after the last level, the repeat or the fallback, as the timers would), and the step after
it is timed from now. It is sent as an escalation from the step the incident is at now: a step
that came meanwhile (its timer, or someone else's escalate) makes it a no-op, not a second one.
Only a triggered incident escalates; to bring someone into an acknowledged one, give them a role.

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID],
    async run(ctx) {
      const body = check(EscalateSchema, { who: ctx.who() }, WHO_LABEL);
      const [incidentId = ''] = ctx.args;
      const from = (await currentIncident(ctx, incidentId)).step;
      return transition(ctx, incidentPath(incidentId, 'escalate'), { ...body, from }, (result) => {
        const paged = result.paged ?? [];
        const held = result.held ?? [];
        const sent =
          paged.length > 0
            ? `paged ${paged.map((p) => `@${p}`).join(', ')}`
            : held.length > 0
              ? ''
              : 'paged nobody';
        const waiting =
          held.length > 0
            ? `held by the page throttle for ${held.join(', ')} (sent in a digest when it allows)`
            : '';
        return result.changed
          ? `${result.incident.id} escalated by @${body.who}: ${[sent, waiting].filter(Boolean).join('; ')}`
          : `${result.incident.id} had escalated meanwhile (step ${result.incident.step}): nothing more sent`;
      });
    },
  },

  snooze: {
    usage: 'snooze <id> --minutes <n> [--who <handle>]',
    summary: 'Snoozes an acknowledged incident: it pages again after --minutes, not at the ack timeout.',
    details: `Snoozes the acknowledged incident (PagerDuty's Snooze): its acknowledgement lapses
--minutes from now instead of at the service's ack timeout, so nobody is paged meanwhile. When the
snooze ends and the incident is neither mitigated nor resolved, it is triggered again, as at an ack
timeout: its acknowledger and level 1 are paged and escalation restarts. Snoozing again sets a new
end, earlier or later. It is sent as a snooze from the end the incident has now: a snooze by someone
else meanwhile makes it a 409. Only an acknowledged incident is snoozed.

Options:
  --minutes <n>        how long: whole minutes, 1..9000 (120 for two hours)
${WHO_HELP}`,
    options: { minutes: str, ...WHO },
    args: [ID],
    async run(ctx) {
      const body = check(
        SnoozeSchema,
        { who: ctx.who(), minutes: numberFlag(ctx.values, 'minutes', 'whole minutes') },
        { minutes: '--minutes', ...WHO_LABEL },
      );
      const [incidentId = ''] = ctx.args;
      const from = snoozedUntil(await currentIncident(ctx, incidentId)) ?? null;
      return transition(
        ctx,
        incidentPath(incidentId, 'snooze'),
        { ...body, from },
        ({ incident, changed }) => {
          const until = dateTime(incident.snooze?.until ?? '');
          return changed
            ? `${incident.id} snoozed by @${body.who} until ${until}`
            : `${incident.id} was already snoozed until ${until}`;
        },
      );
    },
  },

  mitigate: {
    usage: 'mitigate <id> [--note <text>] [--who <handle>]',
    summary: 'Marks the impact stopped (mitigated); escalation and the ack timeout stop.',
    details: `Marks the incident mitigated: users are no longer affected, the cause may still be
there. Escalation and the ack timeout stop.

Options:
  --note <text>        what stopped the impact (goes on the timeline)
${WHO_HELP}`,
    options: { note: str, ...WHO },
    args: [ID],
    run(ctx) {
      const note = string(ctx.values, 'note');
      const body = check(
        MitigateSchema,
        { who: ctx.who(), ...(note === undefined ? {} : { note }) },
        { note: '--note', ...WHO_LABEL },
      );
      const [incidentId = ''] = ctx.args;
      return transition(ctx, incidentPath(incidentId, 'mitigate'), body, ({ incident, changed }) =>
        changed
          ? `${incident.id} mitigated by @${body.who}`
          : `${incident.id} was already mitigated (status ${incident.status})`,
      );
    },
  },

  resolve: {
    usage: 'resolve <id> [--now] [--who <handle>]',
    summary: 'Resolves an incident: monitoring period first, or at once with --now.',
    details: `Resolves the incident. It first enters the service's monitoring period (default 15
minutes): a re-trigger of its alert meanwhile reopens it; a quiet period ends resolved as of now.

Options:
  --now                resolved at once, without the monitoring period
${WHO_HELP}`,
    options: { now: bool, ...WHO },
    args: [ID],
    run(ctx) {
      const body = check(ResolveSchema, { who: ctx.who(), now: ctx.values.now === true }, WHO_LABEL);
      const [incidentId = ''] = ctx.args;
      return transition(ctx, incidentPath(incidentId, 'resolve'), body, ({ incident, changed }) => {
        if (incident.status === 'monitoring' && incident.monitoringUntil) {
          return `${incident.id} monitoring until ${clockInZone(incident.monitoringUntil)}; a re-trigger reopens it`;
        }
        if (!changed) return `${incident.id} was already ${incident.status}`;
        const due = postmortemDueAt(incident);
        return `${incident.id} resolved by @${body.who}${due ? `; postmortem due ${dateTime(due)}` : ''}`;
      });
    },
  },

  note: {
    usage: `note <id> --type ${PEOPLE_ENTRY_TYPES.join('|')} <text…> [--who <handle>]`,
    summary: 'Adds an ACTION, DECISION, OBSERVATION, QUESTION, ANSWER or status UPDATE to the timeline.',
    details: `Adds a war-room entry to the incident's timeline, shown as [HH:MM] [@who] [TYPE] text.
The words after the id are the text (quote it, or not). An UPDATE is a status update for
stakeholders: the next status-update reminder comes one interval (15 minutes for SEV-1, 30 for
SEV-2) after it.

Options:
  --type <TYPE>        ${PEOPLE_ENTRY_TYPES.join(', ')}
${WHO_HELP}`,
    options: { type: str, ...WHO },
    args: [ID, '<text…>'],
    async run(ctx) {
      const [incidentId = '', ...words] = ctx.args;
      const body = check(
        TimelineNoteSchema,
        {
          type: string(ctx.values, 'type')?.toUpperCase(),
          who: ctx.who(),
          text: words.join(' '),
          key: requestKey(),
        },
        { type: '--type', text: '<text…>', ...WHO_LABEL },
      );
      const added = await ctx.api().json<{ entry: TimelineEntry; rendered?: string }>({
        method: 'POST',
        path: incidentPath(incidentId, 'timeline'),
        body,
      });
      if (ctx.json) json(ctx.io, added);
      else ctx.io.stdout(`${added.rendered ?? `[${added.entry.type}] ${added.entry.text}`}\n`);
      return 0;
    },
  },

  severity: {
    usage: 'severity <id> <SEV-n> --reason <text> [--who <handle>]',
    summary: 'Re-assesses the severity (raising it re-pages with the severity’s policy).',
    details: `Changes the incident's severity, with the reason on the timeline. Raising it pages the
escalation policy configured for the new severity, if the service has one. It is sent as a
change from the severity the incident has now: a change by someone else meanwhile makes it a 409.

Arguments:
  <SEV-n>              ${SEVERITIES.join(', ')}

Options:
  --reason <text>      why (required)
${WHO_HELP}`,
    options: { reason: str, ...WHO },
    args: [ID, '<SEV-n>'],
    async run(ctx) {
      const [incidentId = '', severity] = ctx.args;
      const body = check(
        SeverityChangeSchema,
        { severity: severity?.toUpperCase(), reason: string(ctx.values, 'reason'), who: ctx.who() },
        { severity: 'severity', reason: '--reason', ...WHO_LABEL },
      );
      const from = (await currentIncident(ctx, incidentId)).sev;
      return transition(
        ctx,
        incidentPath(incidentId, 'severity'),
        { ...body, from },
        ({ incident, changed }) =>
          changed
            ? `${incident.id} is now ${incident.sev} (${body.reason})`
            : `${incident.id} is already ${incident.sev}`,
      );
    },
  },

  'role assign': {
    usage: `role assign <id> <role> <person> [--who <handle>]`,
    summary: 'Gives a war-room role: commander, tech-lead, comms-lead, scribe, sme.',
    details: `Assigns a war-room role. One person holds each role (assigning it again hands it
over); sme adds a subject-matter expert.

Arguments:
  <role>               ${ROLES.join(', ')}
  <person>             a responder id (responders[].id in the config)

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID, '<role>', '<person>'],
    async run(ctx) {
      const [incidentId = '', role, person] = ctx.args;
      const body = check(
        RoleAssignSchema,
        { role: role?.toLowerCase(), person, who: ctx.who() },
        { role: 'role', person: 'person', ...WHO_LABEL },
      );
      const from =
        body.role === 'sme'
          ? {}
          : { from: (await currentIncident(ctx, incidentId)).roles[body.role] ?? null };
      return transition(
        ctx,
        incidentPath(incidentId, 'roles'),
        { ...body, ...from },
        ({ incident, changed }) => {
          const what = body.role === 'sme' ? `a ${ROLE_NAMES.sme} on` : `the ${ROLE_NAMES[body.role]} of`;
          return `@${body.person} ${changed ? 'is now' : 'already is'} ${what} ${incident.id}`;
        },
      );
    },
  },

  'role remove': {
    usage: `role remove <id> <role> [<person>] [--who <handle>]`,
    summary: 'Takes a war-room role away (sme: one subject-matter expert, by name).',
    details: `Takes a war-room role away: "Bob is no longer the scribe" goes on the timeline and
Bob is told. It is sent as a removal from the person who holds the role now (or from <person>,
when given): if someone else has taken the role meanwhile, it is refused (409) rather than
taken from them. For sme, <person> names the subject-matter expert to take off the list.

Arguments:
  <role>               ${ROLES.join(', ')}
  <person>             who loses it (required for sme)

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID, '<role>', '[<person>]'],
    async run(ctx) {
      const [incidentId = '', role, person] = ctx.args;
      if (role?.toLowerCase() === 'sme') {
        const body = check(ActorSchema, { who: ctx.who() }, WHO_LABEL);
        const sme = check(SmePath, { person }, { person: '<person>' });
        return transition(
          ctx,
          incidentPath(incidentId, 'roles', 'sme', sme.person),
          body,
          ({ incident, changed }) =>
            `@${sme.person} ${changed ? 'is no longer' : 'already is not'} a ${ROLE_NAMES.sme} on ${incident.id}`,
          'DELETE',
        );
      }
      const { role: single } = check(RolePath, { role: role?.toLowerCase() }, { role: '<role>' });
      const body = check(
        RoleRemoveSchema,
        { who: ctx.who(), ...(person === undefined ? {} : { from: person }) },
        { from: '<person>', ...WHO_LABEL },
      );
      const from =
        body.from !== undefined
          ? body.from
          : ((await currentIncident(ctx, incidentId)).roles[single] ?? null);
      return transition(
        ctx,
        incidentPath(incidentId, 'roles', single),
        { ...body, from },
        ({ incident, changed }) =>
          changed
            ? `@${from} is no longer the ${ROLE_NAMES[single]} of ${incident.id}`
            : `nobody is the ${ROLE_NAMES[single]} of ${incident.id}`,
        'DELETE',
      );
    },
  },

  handoff: {
    usage:
      'handoff <id> --to <person> --status <text> --tried <text> --strategy <text>\n--people <text> --decisions <text> [--who <handle>]',
    summary: 'Hands incident command over with the practice’s brief.',
    details: `Hands the incident commander role to --to, with the handoff brief on the timeline.
It is sent as a handoff from the commander the incident has now: if someone else takes command
meanwhile, it is refused (409) rather than applied over their change; so is --to being the
commander already (the brief would be lost).

Options (all required):
  --to <person>        the new incident commander
  --status <text>      where things stand
  --tried <text>       what was tried, and what it showed
  --strategy <text>    the current strategy
  --people <text>      who is involved, doing what
  --decisions <text>   decisions pending
${WHO_HELP}`,
    options: { to: str, status: str, tried: str, strategy: str, people: str, decisions: str, ...WHO },
    args: [ID],
    async run(ctx) {
      const v = ctx.values;
      const fields = ['status', 'tried', 'strategy', 'people', 'decisions'] as const;
      const body = check(
        HandoffSchema,
        {
          to: string(v, 'to'),
          who: ctx.who(),
          brief: Object.fromEntries(fields.map((f) => [f, string(v, f)])),
        },
        { to: '--to', ...Object.fromEntries(fields.map((f) => [`brief.${f}`, `--${f}`])), ...WHO_LABEL },
      );
      const [incidentId = ''] = ctx.args;
      const from = (await currentIncident(ctx, incidentId)).roles.commander ?? null;
      return transition(
        ctx,
        incidentPath(incidentId, 'handoff'),
        { ...body, from },
        ({ incident }) =>
          `@${body.to} is now the incident commander of ${incident.id} (handoff brief on the timeline)`,
      );
    },
  },

  list: {
    usage: 'list [--status <status>] [--service <id>] [--limit <n>] [--cursor <c> | --all]',
    summary: 'Lists incidents, newest first.',
    details: `Lists incidents, newest first: id, severity, status, service, title, age. One page (the
API's, or --limit); when there are more, the last line says how to see the next page.

Options:
  --status <status>    ${INCIDENT_STATUSES.join(', ')}
  --service <id>       one service's incidents
  --limit <n>          at most n a page (1..100, default the API's page)
  --cursor <c>         the page after the one that printed it (same --status, --service)
  --all                every page, one after the other
`,
    options: { status: str, service: str, limit: str, cursor: str, all: bool },
    args: [],
    async run(ctx) {
      // The API's own query schema: a mistake names the flag before any request.
      const query = check(
        ListIncidentsQuery,
        {
          status: string(ctx.values, 'status'),
          service: string(ctx.values, 'service'),
          limit: string(ctx.values, 'limit'),
          cursor: string(ctx.values, 'cursor'),
        },
        { status: '--status', service: '--service', limit: '--limit', cursor: '--cursor' },
      );
      const filter = {
        status: query.status,
        service: query.service,
        limit: query.limit === undefined ? undefined : String(query.limit),
      };
      let page: { incidents: Incident[]; nextCursor?: string } = { incidents: [] };
      const incidents: Incident[] = [];
      let cursor = query.cursor;
      do {
        page = await ctx.api().json<typeof page>({
          method: 'GET',
          path: apiPath('incidents'),
          query: { ...filter, cursor },
        });
        incidents.push(...page.incidents);
        cursor = page.nextCursor;
      } while (ctx.values.all === true && cursor !== undefined);
      if (ctx.json) {
        json(ctx.io, ctx.values.all === true ? { incidents } : page);
        return 0;
      }
      const now = Date.now();
      ctx.io.stdout(
        incidents.length === 0
          ? 'No incidents.\n'
          : table(
              ['ID', 'SEV', 'STATUS', 'SERVICE', 'TITLE', 'AGE'],
              incidents.map((i) => [
                i.id,
                i.sev,
                i.status,
                i.service,
                truncate(i.title, 60),
                age(i.detectedAt, now),
              ]),
            ),
      );
      // The cursor continues this query: the same filters go with it.
      if (cursor !== undefined) {
        const flags = Object.entries(filter).flatMap(([k, v]) => (v === undefined ? [] : [`--${k} ${v}`]));
        ctx.io.stdout(`more: klaxon list ${[...flags, `--cursor ${cursor}`].join(' ')}\n`);
      }
      return 0;
    },
  },

  show: {
    usage: 'show <id>',
    summary: 'Shows an incident: header, the timeline, the checklist.',
    details: `Shows the incident: title, severity, status, war room, roles, runbooks, postmortem due
date, action items, its timeline ([HH:MM] [@who] [TYPE] text) and how far its checklist is.
`,
    args: [ID],
    async run(ctx) {
      const [incidentId = ''] = ctx.args;
      const shown = await ctx.api().json<Shown>({ method: 'GET', path: incidentPath(incidentId) });
      if (ctx.json) {
        json(ctx.io, shown);
        return 0;
      }
      const i = shown.incident;
      const runbooks = (shown.runbooks ?? []).map((l) => `${l.href}${l.text ? ` (${l.text})` : ''}`);
      const pm = shown.postmortem;
      // The header's times in the zone of the timeline below, as the server renders it.
      const zone = shown.timeZone;
      const postmortem = pm?.doneAt
        ? `published ${dateTime(pm.doneAt, zone)}${i.postmortemDoneBy ? ` by @${i.postmortemDoneBy}` : ''}`
        : pm?.dueAt
          ? `due ${dateTime(pm.dueAt, zone)}`
          : pm?.required
            ? `required, due ${POSTMORTEM_DUE_HOURS} hours after resolution`
            : undefined;
      const items = shown.actionItems ?? [];
      const open = items.filter((a) => a.status === 'open').length;
      const by = (who: string | undefined) => (who ? ` by @${who}` : '');
      const rows: [string, string | undefined][] = [
        ['id', i.id],
        ['severity', i.sev],
        ['status', i.status],
        ['service', i.service],
        ['source', i.source],
        ['detected', i.detectedAt ? dateTime(i.detectedAt, zone) : undefined],
        [
          // The latest acknowledgement with its acknowledger; the first one's time too (MTTA's).
          'acked',
          i.acknowledgedAt
            ? `${dateTime(i.lastAcknowledgedAt ?? i.acknowledgedAt, zone)}${by(i.acknowledgedBy)}${
                i.lastAcknowledgedAt && i.lastAcknowledgedAt !== i.acknowledgedAt
                  ? ` (first ${dateTime(i.acknowledgedAt, zone)})`
                  : ''
              }`
            : undefined,
        ],
        ['mitigated', i.mitigatedAt ? `${dateTime(i.mitigatedAt, zone)}${by(i.mitigatedBy)}` : undefined],
        ['resolved', i.resolvedAt ? `${dateTime(i.resolvedAt, zone)}${by(i.resolvedBy)}` : undefined],
        ['war room', shown.warRoom],
        ['impact', i.impact ? impactLine(i.impact) : undefined],
        ['roles', rolesLine(i)],
        [
          'snoozed',
          i.snooze && snoozedUntil(i)
            ? `until ${dateTime(i.snooze.until, zone)} by @${i.snooze.by}`
            : undefined,
        ],
        ['runbooks', runbooks.length > 0 ? runbooks.join(', ') : 'none'],
        ['postmortem', postmortem],
        ['actions', items.length > 0 ? `${open} open, ${items.length - open} done` : undefined],
      ];
      const lines = [
        i.title,
        ...rows.filter(([, value]) => value !== undefined).map(([k, value]) => `  ${k.padEnd(11)}${value}`),
        // What the first alert's sender said beyond the title, indented under the header.
        ...(i.description ? ['', ...i.description.split(/\r\n|\r|\n/).map((l) => `  ${l}`)] : []),
        '',
        zone === undefined ? 'Timeline' : `Timeline (${zone})`,
        ...(shown.rendered ?? []).map((l) => `  ${l}`),
      ];
      if (shown.checklist) lines.push('', checklistSummary(shown.checklist));
      ctx.io.stdout(`${lines.map(printable).join('\n')}\n`);
      return 0;
    },
  },

  checklist: {
    usage: 'checklist <id>',
    summary: 'Shows the incident’s response checklist.',
    details: `Shows the incident's response checklist, ticked items marked. Tick one with
klaxon checklist tick <id> <item>.
`,
    args: [ID],
    async run(ctx) {
      const [incidentId = ''] = ctx.args;
      const checklist = await ctx
        .api()
        .json<Checklist>({ method: 'GET', path: incidentPath(incidentId, 'checklist') });
      if (ctx.json) json(ctx.io, checklist);
      else ctx.io.stdout(checklistText(checklist));
      return 0;
    },
  },

  'checklist tick': {
    usage: 'checklist tick <id> <item> [--undo] [--who <handle>]',
    summary: 'Ticks (or with --undo unticks) a checklist item.',
    details: `Ticks a checklist item (its id, from klaxon checklist <id>). Items Klaxon ticks itself
from what it records (acknowledge, assign-ic, implement-mitigation, stable-15, action-items,
publish-postmortem, follow-up, and create-ticket and war-room at opening) are refused, naming the
command that ticks them.

Options:
  --undo               untick it
${WHO_HELP}`,
    options: { undo: bool, ...WHO },
    args: [ID, '<item>'],
    run(ctx) {
      const [incidentId = '', item = ''] = ctx.args;
      const body = check(ChecklistTickSchema, { who: ctx.who(), done: ctx.values.undo !== true }, WHO_LABEL);
      return transition(
        ctx,
        incidentPath(incidentId, 'checklist', item),
        body,
        ({ incident }) => `${incident.id}: ${item} ${body.done ? 'done' : 'not done'}`,
      );
    },
  },

  'postmortem generate': {
    usage: `postmortem generate <id> [--template ${POSTMORTEM_TEMPLATES.join('|')}]\n[--authors <a,b>] [--output <file>]`,
    summary: 'Drafts a blameless postmortem in Markdown from the incident and its timeline.',
    details: `Drafts a blameless postmortem in Markdown: summary, impact, timeline, five whys, what
went well and poorly, action items, lessons learned. Writes it to --output (else prints it); the
blameless-language check's findings go to stderr as advice.

Options:
  --template <name>    ${POSTMORTEM_TEMPLATES.join(', ')} (default default)
  --authors <a,b>      the authors, comma-separated
  --output <file>      write the draft to this file
`,
    options: { template: str, authors: str, output: str },
    args: [ID],
    async run(ctx) {
      const [incidentId = ''] = ctx.args;
      const query = check(
        PostmortemQuery,
        { template: string(ctx.values, 'template'), authors: string(ctx.values, 'authors') },
        { template: '--template', authors: '--authors' },
      );
      // JSON even for the Markdown: the findings come apart from the draft, for stderr.
      const postmortem = await ctx.api().json<{ markdown: string; blame: Finding[] }>({
        method: 'GET',
        path: incidentPath(incidentId, 'postmortem'),
        query: { template: query.template, authors: query.authors },
      });
      const output = string(ctx.values, 'output');
      if (output !== undefined) await writeFile(output, postmortem.markdown);
      if (ctx.json) json(ctx.io, postmortem);
      else if (output === undefined) ctx.io.stdout(postmortem.markdown);
      else ctx.io.stdout(`Wrote ${output}\n`);
      for (const f of postmortem.blame ?? []) {
        ctx.io.stderr(`blameless check: “${f.sentence}” ${f.reason}. Try: ${f.suggestion}\n`);
      }
      return 0;
    },
  },

  'postmortem publish': {
    usage: 'postmortem publish <id> [--who <handle>]',
    summary: 'Marks the postmortem published (SEV-1/2: due 48 hours after resolution).',
    details: `Marks the incident's postmortem published: the reminders stop.

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID],
    run(ctx) {
      const [incidentId = ''] = ctx.args;
      const body = check(ActorSchema, { who: ctx.who() }, WHO_LABEL);
      return transition(
        ctx,
        incidentPath(incidentId, 'postmortem', 'publish'),
        body,
        ({ incident, changed }) =>
          changed
            ? `${incident.id}: postmortem published by @${body.who}`
            : `${incident.id}: postmortem already published`,
      );
    },
  },

  'actions list': {
    usage: 'actions list [<id>] [--status open|done]',
    summary: 'Lists postmortem action items: one incident’s, or all by deadline.',
    details: `Lists action items: one incident's (oldest first), or without an id everyone's, by deadline.
An open item past its deadline (a day in the config's zone) shows OVERDUE as its status.

Options:
  --status open|done   only these
`,
    options: { status: str },
    args: ['[<id>]'],
    async run(ctx) {
      const [incidentId] = ctx.args;
      const { status } = check(
        ActionItemsQuery,
        { status: string(ctx.values, 'status') },
        { status: '--status' },
      );
      const { actionItems } = await ctx.api().json<{
        actionItems: (ActionItemRecord & { overdue?: boolean })[];
      }>({
        method: 'GET',
        path: incidentId === undefined ? apiPath('action-items') : incidentPath(incidentId, 'action-items'),
        query: { status },
      });
      // A stack deployed before one incident's list took `status` answers them all.
      const items = actionItems.filter((a) => status === undefined || a.status === status);
      if (ctx.json) {
        json(ctx.io, { actionItems: items });
        return 0;
      }
      if (items.length === 0) {
        ctx.io.stdout('No action items.\n');
        return 0;
      }
      ctx.io.stdout(
        table(
          [
            'ID',
            ...(incidentId === undefined ? ['INCIDENT'] : []),
            'STATUS',
            'DEADLINE',
            'CATEGORY',
            'OWNER',
            'ACTION',
          ],
          items.map((a) => [
            a.id,
            ...(incidentId === undefined ? [a.incidentId] : []),
            a.overdue === true ? 'OVERDUE' : a.status,
            a.deadline,
            a.category,
            a.owner,
            a.action,
          ]),
        ),
      );
      return 0;
    },
  },

  'actions add': {
    usage: `actions add <id> --action <text> --owner <person> --deadline YYYY-MM-DD\n--category ${ACTION_CATEGORIES.join('|')} [--who <handle>]`,
    summary: 'Adds a postmortem action item: one owner, a deadline, a category.',
    details: `Adds an action item to the incident's postmortem.

Options (all required):
  --action <text>      what will be done
  --owner <person>     one owner
  --deadline <day>     YYYY-MM-DD
  --category <name>    ${ACTION_CATEGORIES.join(', ')}
${WHO_HELP}`,
    options: { action: str, owner: str, deadline: str, category: str, ...WHO },
    args: [ID],
    async run(ctx) {
      const [incidentId = ''] = ctx.args;
      const v = ctx.values;
      const category = string(v, 'category');
      const body = check(
        ActionItemCreateSchema,
        {
          action: string(v, 'action'),
          owner: string(v, 'owner'),
          deadline: string(v, 'deadline'),
          // prevent → Prevent
          category: category && `${category.charAt(0).toUpperCase()}${category.slice(1).toLowerCase()}`,
          who: ctx.who(),
          key: requestKey(),
        },
        {
          action: '--action',
          owner: '--owner',
          deadline: '--deadline',
          category: '--category',
          ...WHO_LABEL,
        },
      );
      const added = await ctx.api().json<{ actionItem: ActionItemRecord }>({
        method: 'POST',
        path: incidentPath(incidentId, 'action-items'),
        body,
      });
      const item = added.actionItem;
      if (ctx.json) json(ctx.io, added);
      else
        ctx.io.stdout(
          `Added ${item.id}: ${item.action} (@${item.owner}, by ${item.deadline}, ${item.category})\n`,
        );
      return 0;
    },
  },

  'actions done': {
    usage: 'actions done <id> <item> [--who <handle>]',
    summary: 'Marks an action item done.',
    details: `Marks an action item done (its id, from klaxon actions list <id>).

Options:
${WHO_HELP}`,
    options: WHO,
    args: [ID, '<item>'],
    async run(ctx) {
      const [incidentId = '', itemId = ''] = ctx.args;
      const body = check(ActionItemUpdateSchema, { status: 'done', who: ctx.who() }, WHO_LABEL);
      const updated = await ctx.api().json<{ actionItem: ActionItemRecord }>({
        method: 'PATCH',
        path: incidentPath(incidentId, 'action-items', itemId),
        body,
      });
      const item = updated.actionItem;
      if (ctx.json) json(ctx.io, updated);
      else ctx.io.stdout(`${item.id} done: ${item.action}\n`);
      return 0;
    },
  },
  oncall: {
    usage: 'oncall <schedule> [--at <time>]',
    summary: 'Says who is on call for a schedule, now or at a time (overrides included).',
    details: `Says who is on call for the schedule (its id in the config): its rotations with the
overrides of that time applied, now or at --at.

Options:
${TIME_HELP}  --at <time>          when (default now)
`,
    options: { at: str },
    args: ['<schedule>'],
    async run(ctx) {
      const [schedule = ''] = ctx.args;
      const at = timeFlag(ctx.values, 'at');
      const result = await ctx.api().json<OnCall>({
        method: 'GET',
        path: apiPath('schedules', schedule, 'oncall'),
        query: { at },
      });
      if (ctx.json) json(ctx.io, result);
      else {
        const who = result.onCall.map((r) => (r.name === r.id ? `@${r.id}` : `${r.name} (@${r.id})`));
        ctx.io.stdout(
          `On call for ${result.schedule} at ${dateTime(result.at)}: ${who.length > 0 ? who.join(', ') : 'nobody'}\n`,
        );
      }
      return 0;
    },
  },

  'override add': {
    usage:
      'override add <schedule> --responder <id> [--replaces <id>] [--from <time>]\n(--to <time> | --for <duration>)',
    summary: 'Puts someone on call for a while: covering one person, or alongside the rotation.',
    details: `Adds an override to a schedule: --responder is on call from --from (default now) until
--to (or for --for). With --replaces they take that person's place while the override lasts (a
shift swap, a sick day); without it they are on call with whoever the rotation names.

Options:
  --responder <id>     who is on call (a responder id in the config)
  --replaces <id>      whom they cover (when that person is on call)
  --from <time>        when it begins (default now)
  --to <time>          when it ends
  --for <duration>     or how long it lasts: 30m, 8h, 2d
${TIME_HELP}`,
    options: { responder: str, replaces: str, from: str, to: str, for: str },
    args: ['<schedule>'],
    async run(ctx) {
      const [schedule = ''] = ctx.args;
      const { from, to } = timeRange(ctx.values);
      const body = check(
        OverrideBody,
        {
          from,
          to,
          responder: string(ctx.values, 'responder'),
          replaces: string(ctx.values, 'replaces'),
        },
        { from: '--from', to: '--to', responder: '--responder', replaces: '--replaces' },
      );
      const override = await ctx.api().json<ScheduleOverride & { warning?: string }>({
        method: 'POST',
        path: apiPath('schedules', schedule, 'overrides'),
        body,
      });
      if (ctx.json) json(ctx.io, override);
      else {
        ctx.io.stdout(
          `Override ${override.id} on ${override.scheduleId}: @${override.responder} ${override.replaces ? `covers for @${override.replaces}` : 'is on call with the rotation'}, ${dateTime(override.from)} to ${dateTime(override.to)}\n`,
        );
        if (override.warning) ctx.io.stderr(`klaxon: warning: ${override.warning}\n`);
      }
      return 0;
    },
  },

  'override list': {
    usage: 'override list <schedule>',
    summary: 'Lists the overrides of a schedule that have not ended.',
    details: `Lists the schedule's overrides that are on now or still to come: id, who, whom they
cover, from, to (in your time zone).
`,
    args: ['<schedule>'],
    async run(ctx) {
      const [schedule = ''] = ctx.args;
      const result = await ctx.api().json<{ overrides: ScheduleOverride[] }>({
        method: 'GET',
        path: apiPath('schedules', schedule, 'overrides'),
      });
      if (ctx.json) json(ctx.io, result);
      else
        ctx.io.stdout(
          result.overrides.length === 0
            ? `No overrides on ${schedule}.\n`
            : table(
                ['ID', 'RESPONDER', 'REPLACES', 'FROM', 'TO'],
                result.overrides.map((o) => [
                  o.id,
                  `@${o.responder}`,
                  o.replaces ? `@${o.replaces}` : '-',
                  dateTime(o.from),
                  dateTime(o.to),
                ]),
              ),
        );
      return 0;
    },
  },

  'override remove': {
    usage: 'override remove <schedule> <override>',
    summary: 'Removes an override (its id, from klaxon override list).',
    details: `Removes an override: the schedule's rotation applies again for its time.
`,
    args: ['<schedule>', '<override>'],
    async run(ctx) {
      const [schedule = '', id = ''] = ctx.args;
      await ctx.api().text({ method: 'DELETE', path: apiPath('schedules', schedule, 'overrides', id) });
      if (ctx.json) json(ctx.io, { removed: id });
      else ctx.io.stdout(`Removed override ${id} from ${schedule}\n`);
      return 0;
    },
  },

  'maintenance start': {
    usage: 'maintenance start <service> [--from <time>] (--to <time> | --for <duration>)\n[--reason <text>]',
    summary: 'Starts a maintenance window: alerts are recorded and nobody is paged.',
    details: `Adds a maintenance window to a service, from --from (default now) until --to (or for
--for). While it lasts, alerts still open and count into incidents but nobody is paged; the
escalations in flight stop. When it ends (or is ended early), what is still unacknowledged
escalates from level 1.

Options:
  --from <time>        when it begins (default now)
  --to <time>          when it ends
  --for <duration>     or how long it lasts: 30m, 2h, 1d
  --reason <text>      why (shown in the list)
${TIME_HELP}`,
    options: { from: str, to: str, for: str, reason: str },
    args: ['<service>'],
    async run(ctx) {
      const [service = ''] = ctx.args;
      const { from, to } = timeRange(ctx.values);
      const body = check(
        CreateMaintenance,
        { from, to, reason: string(ctx.values, 'reason') },
        { from: '--from', to: '--to', reason: '--reason' },
      );
      const window = await ctx.api().json<MaintenanceWindow & { stopped: number }>({
        method: 'POST',
        path: apiPath('services', service, 'maintenance'),
        body,
      });
      if (ctx.json) json(ctx.io, window);
      else
        ctx.io.stdout(
          `Maintenance window ${window.id} on ${window.service}, ${dateTime(window.from)} to ${dateTime(window.to)}${window.stopped > 0 ? `: stopped the escalation of ${window.stopped} incident${window.stopped === 1 ? '' : 's'}` : ''}\n`,
        );
      return 0;
    },
  },

  'maintenance list': {
    usage: 'maintenance list <service>',
    summary: 'Lists the maintenance windows of a service that have not ended.',
    details: `Lists the service's maintenance windows that are on now or still to come: id, from, to
(in your time zone), reason.
`,
    args: ['<service>'],
    async run(ctx) {
      const [service = ''] = ctx.args;
      const result = await ctx.api().json<{ windows: MaintenanceWindow[] }>({
        method: 'GET',
        path: apiPath('services', service, 'maintenance'),
      });
      if (ctx.json) json(ctx.io, result);
      else
        ctx.io.stdout(
          result.windows.length === 0
            ? `No maintenance windows on ${service}.\n`
            : table(
                ['ID', 'FROM', 'TO', 'REASON'],
                result.windows.map((w) => [w.id, dateTime(w.from), dateTime(w.to), w.reason ?? '']),
              ),
        );
      return 0;
    },
  },

  'maintenance end': {
    usage: 'maintenance end <service> <window>',
    summary: 'Ends a maintenance window now: what it held back escalates again.',
    details: `Ends (removes) a maintenance window (its id, from klaxon maintenance list): the incidents
it stopped that nobody acknowledged escalate again from level 1.
`,
    args: ['<service>', '<window>'],
    async run(ctx) {
      const [service = '', id = ''] = ctx.args;
      await ctx.api().text({ method: 'DELETE', path: apiPath('services', service, 'maintenance', id) });
      if (ctx.json) json(ctx.io, { ended: id });
      else ctx.io.stdout(`Ended maintenance window ${id} on ${service}\n`);
      return 0;
    },
  },
};

interface Finding {
  readonly sentence: string;
  readonly reason: string;
  readonly suggestion: string;
}

const PostmortemQuery = z.object({
  template: z.optional(z.enum(POSTMORTEM_TEMPLATES)),
  authors: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(1000))),
});

/** Commands with subcommands: `klaxon role` alone explains them. */
const GROUPS = ['role', 'postmortem', 'actions', 'override', 'maintenance'] as const;

/** Every incident command, subcommands as `role assign`. */
export const INCIDENT_COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/** The first words of the incident commands (bin/klaxon.ts hands these to `runIncidentCommand`). */
export const INCIDENT_COMMANDS: ReadonlySet<string> = new Set(
  Object.keys(COMMANDS).map((k) => k.split(' ')[0] ?? k),
);

/** `  klaxon <usage>`, continuation lines indented under the command's first argument. */
export function synopsis(name: string, command: Pick<Command, 'usage'>, prefix = '  klaxon '): string {
  const indent = ' '.repeat(prefix.length + name.length + 1);
  return `${prefix}${command.usage.replaceAll('\n', `\n${indent}`)}`;
}

/** The incident commands' lines of `klaxon --help`. */
export function incidentUsage(): string {
  return Object.entries(COMMANDS)
    .map(([name, c]) => synopsis(name, c))
    .join('\n');
}

/** One line per incident command, for `klaxon --help`. */
export function incidentSummaries(): string {
  return Object.entries(COMMANDS)
    .map(([name, c]) => `${name.padEnd(21)}${c.summary}`)
    .join('\n');
}

function commandHelp(name: string, command: Command): string {
  return `Usage:\n${synopsis(name, command)} [target] [--json]\n\n${command.details}\n${TARGET_HELP}`;
}

function groupHelp(group: string): string {
  const subs = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${group} `));
  const own = COMMANDS[group];
  return `Usage:\n${[...(own ? [[group, own] as const] : []), ...subs].map(([n, c]) => synopsis(n, c)).join('\n')}\n\n${[
    ...(own ? [[group, own] as const] : []),
    ...subs,
  ]
    .map(([name, c]) => `${name.padEnd(21)}${c.summary}`)
    .join('\n')}\n\nSee klaxon ${subs[0]?.[0] ?? group} --help for a command's options.\n`;
}

function resolveCommand(argv: readonly string[]): { name: string; rest: string[] } | undefined {
  const [first = '', second = ''] = argv;
  if (COMMANDS[`${first} ${second}`]) return { name: `${first} ${second}`, rest: argv.slice(2) };
  if (COMMANDS[first]) return { name: first, rest: argv.slice(1) };
  return undefined;
}

function defaultWho(): string | undefined {
  if (process.env.KLAXON_USER) return process.env.KLAXON_USER;
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** Checks the positionals against the command's `args`. */
function checkArgs(name: string, command: Command, args: readonly string[]): void {
  const required = command.args.filter((a) => !a.startsWith('['));
  const variadic = command.args.at(-1)?.endsWith('…>') === true;
  const missing = required.slice(args.length);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.join(' ')} (see klaxon ${name} --help)`);
  }
  if (!variadic && args.length > command.args.length) {
    throw new UsageError(`unexpected argument "${args[command.args.length]}" (see klaxon ${name} --help)`);
  }
}

/**
 * Runs an incident command (`argv` from the command word on). Returns the exit code; throws
 * `UsageError` (exit 2), `ApiError` or another error (exit 1) with a one-line message.
 */
export async function runIncidentCommand(
  argv: readonly string[],
  io: Io = processIo,
  target: { overrides?: Parameters<typeof apiClient>[1] } = {},
): Promise<number> {
  const resolved = resolveCommand(argv);
  if (resolved === undefined) {
    const group = GROUPS.find((g) => g === argv[0]);
    if (group === undefined) throw new UsageError(`unknown command "${argv[0] ?? ''}" (see klaxon --help)`);
    const wantsHelp = argv.includes('--help') || argv.includes('-h');
    (wantsHelp ? io.stdout : io.stderr)(groupHelp(group));
    if (wantsHelp) return 0;
    throw new UsageError(
      argv[1] === undefined
        ? `${group}: which one? (see klaxon ${group} --help)`
        : `unknown command "${group} ${argv[1]}" (see klaxon ${group} --help)`,
    );
  }
  const { name, rest } = resolved;
  const command = COMMANDS[name] as Command;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...TARGET_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError(
      `${error instanceof Error ? error.message : String(error)} (see klaxon ${name} --help)`,
    );
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(commandHelp(name, command));
    return 0;
  }
  checkArgs(name, command, positionals);
  // The two targets' flags: local (--url, --token) or deployed (--endpoint, --region).
  if (values.endpoint !== undefined) notApplying(values, ['url', 'token'], 'with --endpoint');
  else notApplying(values, ['region'], 'without --endpoint');
  let client: ApiClient | undefined;
  return command.run({
    values,
    args: positionals,
    io,
    json: values.json === true,
    api: () => {
      client ??= apiClient(
        {
          url: string(values, 'url'),
          token: string(values, 'token'),
          endpoint: string(values, 'endpoint'),
          region: string(values, 'region'),
        },
        target.overrides,
      );
      return client;
    },
    who: () => string(values, 'who') ?? defaultWho(),
  });
}

/** The idempotency key of one invocation's creating request (sent again only by a retry of it). */
function requestKey(): string {
  return `cli-${randomUUID()}`;
}

/**
 * Text senders chose (a title, an alert's description, a timeline entry), safe for a terminal:
 * control characters but line breaks — escape sequences — and bidi overrides become spaces.
 */
function printable(line: string): string {
  return line.replace(/[^\P{Cc}\n]|[\u202a-\u202e\u2066-\u2069]/gu, ' ');
}
