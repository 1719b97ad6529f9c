import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, apiPath, localUrl, UsageError } from '../../cli/client.ts';
import { INCIDENT_COMMAND_NAMES, runIncidentCommand } from '../../cli/incident.ts';
import { type RunningKlaxon, startKlaxonProcess } from '../support/local-process.ts';

/**
 * The incident commands, run as a user runs them: the real binary (`node --import tsx
 * bin/klaxon.ts`) against a real local pipeline (bin/local.ts in a child process). The tests of
 * one describe share the incidents they open, in order, like one incident being worked.
 */

const run = promisify(execFile);
let dataDir: string;
let klaxon: RunningKlaxon;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'klaxon-cli-incident-'));
  klaxon = await startKlaxonProcess(dataDir);
}, 60_000);
afterAll(async () => {
  await klaxon?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a user with no Klaxon or AWS settings of their own, as `tester`. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(KLAXON_|AWS_)/.test(name)) delete env[name];
  }
  return { ...env, KLAXON_DATA_DIR: dataDir, KLAXON_USER: 'tester', NODE_NO_WARNINGS: '1', ...extra };
}

/** Runs the binary; never throws: the exit code is part of what is checked. */
async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/klaxon.ts', ...args], {
      env: userEnv(env),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Against the running pipeline (its token from the data folder's secrets.json). */
const local = (...args: string[]) => cli([...args, '--url', klaxon.url]);

/** Exit 0, else the failure's stderr in the assertion message. */
function ok(ran: Ran): string {
  expect(ran.stderr.trim(), `exit ${ran.code}`).not.toMatch(/^klaxon:/m);
  expect(ran.code).toBe(0);
  return ran.stdout;
}

const LINE = /^\[\d{2}:\d{2}\] \[@[\w.@-]+\] \[[A-Z_]+\] .+$/;

describe('klaxon incident commands against the running local pipeline', { timeout: 60_000 }, () => {
  let id = '';
  let byImpact = '';

  it('opens an incident by severity (--json) and one classified from its impact, with the reasons', async () => {
    const created = JSON.parse(
      ok(
        await local(
          'create',
          '--service',
          'checkout',
          '--title',
          'Checkout returns 500s',
          '--severity',
          'SEV-2',
          '--json',
        ),
      ),
    ) as { incident: { id: string; sev: string; service: string }; warRoom: string; url: string };
    expect(created.incident).toMatchObject({ sev: 'SEV-2', service: 'checkout' });
    expect(created.warRoom).toMatch(/^#incident-\d{8}-checkout-returns-500s$/);
    expect(created.url).toBe(`${klaxon.url}/api/incidents/${created.incident.id}`);
    id = created.incident.id;

    const text = ok(
      await local(
        'create',
        '--service',
        'checkout',
        '--title',
        'Payments failing',
        '--users-affected',
        '60%',
        '--revenue-impact',
        '$12,000',
        '--sla-risk',
        'yes',
        '--description',
        // With a terminal escape (clear screen) and a bidi override: shown as spaces.
        'Card payments fail with 502 from the PSP\nsince the 14:00 deploy\u001b[2J\u202e',
      ),
    );
    byImpact = /^Opened incident (\w+): Payments failing$/m.exec(text)?.[1] ?? '';
    expect(byImpact).not.toBe('');
    expect(text).toContain(
      'severity  SEV-1 (users affected 60% → SEV-1; revenue impact $12000/h → SEV-1; SLA risk yes → SEV-1)',
    );
    expect(text).toMatch(/^ {2}war room {2}#incident-\d{8}-payments-failing$/m);
    // The API's URL is said to be one (a browser gets 401), with the command that shows it.
    expect(text).toContain(
      `  api       ${klaxon.url}/api/incidents/${byImpact} (with credentials: klaxon show ${byImpact})\n`,
    );
  });

  it('escalates a triggered incident now: the next level (carol) is paged at once', async () => {
    expect(ok(await local('escalate', id))).toBe(`${id} escalated by @tester: paged @carol\n`);
    const shown = JSON.parse(ok(await local('show', id, '--json'))) as { incident: { step: number } };
    expect(shown.incident.step).toBe(1);
    expect(ok(await cli(['escalate', '--help']))).toContain('klaxon escalate <id> [--who <handle>]');
  });

  it('acknowledges, mitigates and takes war-room notes as [HH:MM] [@who] [TYPE] lines', async () => {
    expect(ok(await local('ack', id))).toBe(`${id} acknowledged by @tester\n`);
    // Snoozed for two hours: the lapse moves; the same snooze again (from the end it set) is a new end.
    expect(ok(await local('snooze', id, '--minutes', '120'))).toMatch(
      new RegExp(`^${id} snoozed by @tester until \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\S+\\n$`),
    );
    const snoozed = JSON.parse(ok(await local('snooze', id, '--minutes', '90', '--json'))) as {
      changed: boolean;
      incident: { snooze: { until: string; by: string } };
    };
    expect(snoozed).toMatchObject({ changed: true, incident: { snooze: { by: 'tester' } } });
    expect(ok(await local('show', id))).toMatch(/^ {2}snoozed {4}until .+ by @tester$/m);
    const bad = await local('snooze', id, '--minutes', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--minutes');
    expect(ok(await cli(['snooze', '--help']))).toContain(
      'klaxon snooze <id> --minutes <n> [--who <handle>]',
    );
    expect(ok(await local('mitigate', id, '--note', 'Rolled back to v41'))).toBe(
      `${id} mitigated by @tester\n`,
    );
    const note = ok(await local('note', id, '--type', 'DECISION', 'Keep', 'v42', 'off', 'until', 'Monday'));
    expect(note.trim()).toMatch(LINE);
    expect(note).toContain('[@tester] [DECISION] Keep v42 off until Monday');
    // A status update: its type in any case, like the others.
    const update = ok(await local('note', id, '--type', 'update', 'Mitigated; watching error rates'));
    expect(update).toContain('[@tester] [UPDATE] Mitigated; watching error rates');
    // Blaming language, for the postmortem's blameless check below.
    ok(
      await local(
        'note',
        id,
        '--type',
        'observation',
        'alice deployed bad code before the spike',
        '--who',
        'bob',
      ),
    );
  });

  it('raises the severity with a reason, assigns a role, hands command over with the brief', async () => {
    expect(ok(await local('severity', id, 'SEV-1', '--reason', 'EU customers affected too'))).toBe(
      `${id} is now SEV-1 (EU customers affected too)\n`,
    );
    expect(ok(await local('role', 'assign', id, 'commander', 'alice'))).toBe(
      `@alice is now the incident commander of ${id}\n`,
    );
    const handoff = await local(
      'handoff',
      id,
      '--to',
      'bob',
      '--status',
      'Mitigated, watching error rates',
      '--tried',
      'Rollback to v41 (worked)',
      '--strategy',
      'Hold v42 until the fix is reviewed',
      '--people',
      'alice (tech), carol (comms)',
      '--decisions',
      'When to re-deploy',
      '--who',
      'alice',
    );
    expect(ok(handoff)).toBe(`@bob is now the incident commander of ${id} (handoff brief on the timeline)\n`);
  });

  it('says on stderr, and does it, when one person becomes both incident commander and tech lead', async () => {
    const created = ok(
      await local('create', '--service', 'checkout', '--title', 'Two of us', '--severity', 'SEV-3'),
    );
    const small = /^Opened incident (\w+):/m.exec(created)?.[1] ?? '';
    ok(await local('role', 'assign', small, 'commander', 'carol'));
    const both = await local('role', 'assign', small, 'tech-lead', 'carol');
    expect(both.code).toBe(0);
    expect(both.stdout).toBe(`@carol is now the tech lead of ${small}\n`);
    expect(both.stderr).toBe(
      'klaxon: warning: carol is both the incident commander and the tech lead: the commander coordinates and does not fix the issue (PRACTICE); give one of the roles to someone else when you can\n',
    );
  });

  it('shows the incident: header, rendered timeline, checklist summary (and --json parses)', async () => {
    const shown = ok(await local('show', id));
    const [title, ...rest] = shown.split('\n');
    expect(title).toBe('Checkout returns 500s');
    expect(rest.join('\n')).toMatch(/^ {2}war room {3}#incident-\d{8}-checkout-returns-500s$/m);
    expect(shown).toMatch(/^ {2}status {5}mitigated$/m);
    expect(shown).toMatch(/^ {2}runbooks {3}https:\/\/runbooks\.example\.com\/checkout/m);
    expect(shown).toMatch(/^ {2}roles {6}incident commander @bob$/m);
    expect(shown).toMatch(/^ {2}severity {3}SEV-1$/m);
    const timeline = shown.slice(shown.indexOf('Timeline\n') + 'Timeline\n'.length).split('\n');
    const entries = timeline.filter((l) => l.startsWith('  [')).map((l) => l.slice(2));
    for (const entry of entries) expect(entry).toMatch(LINE);
    expect(entries.some((e) => e.includes('[@tester] [ACKNOWLEDGED]'))).toBe(true);
    expect(entries.some((e) => e.endsWith('[@tester] [DECISION] Keep v42 off until Monday'))).toBe(true);
    expect(shown).toMatch(/^Checklist: \d+\/28 done/m);

    const json = JSON.parse(ok(await local('show', id, '--json'))) as {
      incident: { id: string };
      rendered: string[];
    };
    expect(json.incident.id).toBe(id);
    expect(json.rendered.length).toBe(entries.length);
    // A declaration's impact is shown with the incident.
    const declared = ok(await local('show', byImpact));
    expect(declared).toMatch(
      /^ {2}impact {5}60% of users affected; \$12,000 revenue per hour; SLA at risk: yes$/m,
    );
    // Its description under the header, line by line.
    expect(declared).toMatch(
      /\n\n {2}Card payments fail with 502 from the PSP\n {2}since the 14:00 deploy \[2J \n\nTimeline/,
    );
    expect(declared).not.toContain('\u001b');
    expect(declared).not.toContain('\u202e');
    expect(shown).not.toContain('Card payments');
    expect(shown).not.toMatch(/^ {2}impact /m);
  });

  it('takes a role away (from whoever holds it, or from <person>) and an SME by name', async () => {
    ok(await local('role', 'assign', byImpact, 'scribe', 'carol'));
    ok(await local('role', 'assign', byImpact, 'sme', 'bob'));
    // Only a configured responder can hold a role (a typo would be told nothing, ever).
    const typo = await local('role', 'assign', byImpact, 'sme', 'bbo');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('400 unknown responder (person: "bbo" is not a responder in the config');
    // From someone who does not hold it: refused by the API, nothing changes.
    const late = await local('role', 'remove', byImpact, 'scribe', 'erin');
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('from: is carol');
    expect(ok(await local('role', 'remove', byImpact, 'scribe'))).toBe(
      `@carol is no longer the scribe of ${byImpact}\n`,
    );
    expect(ok(await local('role', 'remove', byImpact, 'scribe'))).toBe(
      `nobody is the scribe of ${byImpact}\n`,
    );
    expect(ok(await local('role', 'remove', byImpact, 'sme', 'bob'))).toBe(
      `@bob is no longer a subject-matter expert on ${byImpact}\n`,
    );
    const shown = ok(await local('show', byImpact));
    expect(shown).toMatch(/^ {2}roles {6}none assigned$/m);
    expect(shown).toContain('[ROLE_REMOVED] Carol Example is no longer the scribe');
    // Mistakes name the argument, before any request.
    for (const [args, named] of [
      [['sme'], '<person>'],
      [['boss'], '<role>'],
    ] as const) {
      const ran = await local('role', 'remove', byImpact, ...args);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toContain(named);
    }
  });

  it('prints the checklist with item ids and ticks one', async () => {
    const before = ok(await local('checklist', id));
    expect(before).toMatch(/^Initial Response \(0-5 min\)/);
    expect(before).toMatch(/^ {2}\[ \] notify-stakeholders +Notify stakeholders$/m);
    expect(before).toMatch(/^ {2}\[x\] acknowledge +Acknowledge alert/m);
    expect(ok(await local('checklist', 'tick', id, 'notify-stakeholders'))).toBe(
      `${id}: notify-stakeholders done\n`,
    );
    const after = JSON.parse(ok(await local('checklist', id, '--json'))) as {
      phases: { items: { id: string; done: boolean; by?: string }[] }[];
    };
    const item = after.phases.flatMap((p) => p.items).find((i) => i.id === 'notify-stakeholders');
    expect(item).toMatchObject({ done: true, by: 'tester' });
  });

  it('refuses to tick what Klaxon ticks itself: exit 1 naming the item and the command that does it', async () => {
    const ran = await local('checklist', 'tick', id, 'publish-postmortem');
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      'klaxon: 409 checklist item publish-postmortem is not ticked by hand ' +
        `(item: is ticked by Klaxon: POST /api/incidents/${id}/postmortem/publish, klaxon postmortem publish ${id})\n`,
    );
  });

  it('resolves into the monitoring period, then at once with --now (postmortem due)', async () => {
    expect(ok(await local('resolve', id))).toMatch(
      new RegExp(`^${id} monitoring until \\d{2}:\\d{2} \\S+; a re-trigger reopens it\\n$`),
    );
    // A time said alone names its zone (the laptop's), as the monitoring one does.
    expect(ok(await local('resolve', id, '--now'))).toMatch(
      new RegExp(`^${id} resolved by @tester; postmortem due \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\S+\\n$`),
    );
  });

  it('generates the postmortem from a template into a file, the blameless findings on stderr', async () => {
    const file = join(dataDir, 'postmortem.md');
    const ran = await local(
      'postmortem',
      'generate',
      id,
      '--template',
      'deployment',
      '--authors',
      'alice,bob',
      '--output',
      file,
    );
    expect(ok(ran)).toBe(`Wrote ${file}\n`);
    const markdown = await readFile(file, 'utf8');
    expect(markdown).toMatch(/^# Postmortem: Checkout returns 500s/);
    for (const section of [
      'Executive Summary',
      'Impact',
      'Timeline',
      'Root Cause Analysis (Five Whys)',
      'What Went Well',
      'What Went Poorly',
      'Action Items',
      'Lessons Learned',
    ]) {
      expect(markdown).toContain(`\n## ${section}\n`);
    }
    expect(markdown).toContain('| Authors | alice, bob |');
    expect(markdown).toContain('1. Why did the deployment break the service?');
    expect(ran.stderr).toMatch(/^blameless check: “.*alice deployed bad code.*” .+ Try: .+$/m);
  });

  it('adds an action item, lists it, marks it done, lists the done ones; publishes the postmortem', async () => {
    // The local runtime runs on the real clock, and a deadline before today is refused.
    const deadline = `${new Date().getUTCFullYear() + 1}-12-15`;
    const added = ok(
      await local(
        'actions',
        'add',
        id,
        '--action',
        'Add a canary stage to the checkout deploy',
        '--owner',
        'alice',
        '--deadline',
        deadline,
        '--category',
        'prevent',
      ),
    );
    const item = new RegExp(
      `^Added (\\w+): Add a canary stage to the checkout deploy \\(@alice, by ${deadline}, Prevent\\)$`,
      'm',
    ).exec(added)?.[1];
    expect(item).toBeDefined();
    const listed = ok(await local('actions', 'list', id));
    expect(listed).toMatch(/^ID +STATUS +DEADLINE +CATEGORY +OWNER +ACTION$/m);
    expect(listed).toMatch(new RegExp(`^${item} +open +${deadline} +Prevent +alice +Add a canary`, 'm'));
    expect(ok(await local('actions', 'done', id, item ?? ''))).toBe(
      `${item} done: Add a canary stage to the checkout deploy\n`,
    );
    const done = JSON.parse(ok(await local('actions', 'list', '--status', 'done', '--json'))) as {
      actionItems: { id: string; incidentId: string; status: string }[];
    };
    expect(done.actionItems).toContainEqual(
      expect.objectContaining({ id: item, incidentId: id, status: 'done' }),
    );
    expect(ok(await local('postmortem', 'publish', id))).toBe(`${id}: postmortem published by @tester\n`);
  });

  it('lists incidents as a table and as JSON', async () => {
    const table = ok(await local('list', '--service', 'checkout'));
    expect(table).toMatch(/^ID +SEV +STATUS +SERVICE +TITLE +AGE$/m);
    expect(table).toMatch(
      new RegExp(`^${byImpact} +SEV-1 +triggered +checkout +Payments failing +\\d+[smhd]`, 'm'),
    );
    const page = JSON.parse(ok(await local('list', '--status', 'triggered', '--limit', '10', '--json'))) as {
      incidents: { id: string; status: string }[];
    };
    expect(page.incidents.map((i) => i.id)).toContain(byImpact);
    expect(page.incidents.every((i) => i.status === 'triggered')).toBe(true);
  });

  it('list says when there is more, goes on with --cursor, and follows every page with --all', async () => {
    const all = (
      JSON.parse(ok(await local('list', '--limit', '100', '--json'))) as { incidents: { id: string }[] }
    ).incidents.map((i) => i.id);
    expect(all.length).toBeGreaterThan(1);
    const first = ok(await local('list', '--limit', '1'));
    const more = /^more: klaxon list --limit 1 --cursor (\S+)$/m.exec(first);
    expect(more, first).not.toBeNull();
    const second = JSON.parse(
      ok(await local('list', '--limit', '1', '--cursor', more?.[1] ?? '', '--json')),
    ) as {
      incidents: { id: string }[];
    };
    expect(second.incidents.map((i) => i.id)).toEqual([all[1]]);
    const followed = JSON.parse(ok(await local('list', '--limit', '1', '--all', '--json'))) as {
      incidents: { id: string }[];
      nextCursor?: string;
    };
    expect(followed).toEqual({ incidents: all.map((id) => expect.objectContaining({ id })) });
    const text = ok(await local('list', '--limit', '1', '--all'));
    expect(text).not.toMatch(/^more:/m);
    expect(text.trimEnd().split('\n')).toHaveLength(all.length + 1);
    expect(await cli(['list', '--cursor', ''])).toMatchObject({ code: 2 });
  });
});

describe('klaxon on-call, overrides and maintenance windows against the running local pipeline', {
  timeout: 60_000,
}, () => {
  // klaxon.config.json: checkout-primary rotates alice, bob weekly from Monday 2026-11-02 09:00 Berlin.
  it('says who is on call at a time, with the overrides of that time applied', async () => {
    expect(ok(await local('oncall', 'checkout-primary', '--at', '2026-11-03T10:00Z'))).toMatch(
      /^On call for checkout-primary at 2026-11-03 \d\d:00 \S+: Alice Example \(@alice\)\n$/,
    );
    // Lower-case t and z are ISO 8601 too.
    const bob = JSON.parse(
      ok(await local('oncall', 'checkout-primary', '--at', '2026-11-10t10:00z', '--json')),
    );
    expect(bob).toEqual({
      schedule: 'checkout-primary',
      at: '2026-11-10T10:00:00.000Z',
      onCall: [{ id: 'bob', name: 'Bob Example' }],
    });
  });

  it('adds an override covering someone, lists it, applies it, removes it', async () => {
    const onCallAt = async () =>
      JSON.parse(
        ok(await local('oncall', 'checkout-primary', '--at', '2031-01-08T12:00Z', '--json')),
      ).onCall.map((r: { id: string }) => r.id);
    const [rotation] = await onCallAt();
    expect(['alice', 'bob']).toContain(rotation);
    const added = JSON.parse(
      ok(
        await local(
          'override',
          'add',
          'checkout-primary',
          '--responder',
          'carol',
          '--replaces',
          rotation,
          '--from',
          '2031-01-07T00:00Z',
          '--for',
          '2d',
          '--json',
        ),
      ),
    );
    expect(added).toMatchObject({
      scheduleId: 'checkout-primary',
      responder: 'carol',
      replaces: rotation,
      from: '2031-01-07T00:00:00.000Z',
      to: '2031-01-09T00:00:00.000Z',
    });
    expect(added).not.toHaveProperty('warning');
    // Covering for someone who is not on call then is made, and said to change nothing.
    const other = rotation === 'alice' ? 'bob' : 'alice';
    const idle = await local(
      'override',
      'add',
      'checkout-primary',
      '--responder',
      'carol',
      '--replaces',
      other,
      '--from',
      '2031-01-08T10:00Z',
      '--for',
      '1h',
    );
    expect(idle.code).toBe(0);
    expect(idle.stderr).toBe(
      `klaxon: warning: ${other} is not on call in checkout-primary then: this override changes nothing\n`,
    );
    const idleId = /^Override (\w+) /.exec(idle.stdout)?.[1] ?? '';
    ok(await local('override', 'remove', 'checkout-primary', idleId));
    const listed = ok(await local('override', 'list', 'checkout-primary'));
    expect(listed).toMatch(/^ID +RESPONDER +REPLACES +FROM +TO\n/);
    expect(listed).toContain(`${added.id}  @carol`);
    expect(await onCallAt()).toEqual(['carol']);
    expect(ok(await local('override', 'remove', 'checkout-primary', added.id))).toBe(
      `Removed override ${added.id} from checkout-primary\n`,
    );
    expect(ok(await local('override', 'list', 'checkout-primary'))).not.toContain(added.id);
    expect(await onCallAt()).toEqual([rotation]);
    expect(await local('override', 'remove', 'checkout-primary', added.id)).toMatchObject({
      code: 1,
      stderr: `klaxon: 404 no override ${added.id}\n`,
    });
  });

  it("reads a time without an offset in the user's time zone, and says it back in it", async () => {
    const added = await cli(
      [
        'override',
        'add',
        'checkout-primary',
        '--responder',
        'carol',
        '--from',
        '2031-03-01 09:00',
        '--to',
        '2031-03-01 17:30',
        '--url',
        klaxon.url,
      ],
      { TZ: 'Asia/Kolkata' },
    );
    expect(ok(added)).toMatch(
      /^Override \w+ on checkout-primary: @carol is on call with the rotation, 2031-03-01 09:00 GMT\+5:30 to 2031-03-01 17:30 GMT\+5:30\n$/,
    );
    const id = ok(added).split(' ')[1] ?? '';
    const stored = JSON.parse(ok(await local('override', 'list', 'checkout-primary', '--json'))).overrides;
    expect(stored.find((o: { id: string }) => o.id === id)).toMatchObject({
      from: '2031-03-01T03:30:00.000Z',
      to: '2031-03-01T12:00:00.000Z',
    });
    ok(await local('override', 'remove', 'checkout-primary', id));
  });

  it('starts a maintenance window, lists it and ends it early', async () => {
    const window = JSON.parse(
      ok(
        await local(
          'maintenance',
          'start',
          'platform',
          '--from',
          '+1d',
          '--for',
          '2h',
          '--reason',
          'db upgrade',
          '--json',
        ),
      ),
    );
    expect(window).toMatchObject({ service: 'platform', reason: 'db upgrade', stopped: 0 });
    expect(Date.parse(window.to) - Date.parse(window.from)).toBe(2 * 3_600_000);
    const listed = ok(await local('maintenance', 'list', 'platform'));
    expect(listed).toMatch(/^ID +FROM +TO +REASON\n/);
    expect(listed).toMatch(new RegExp(`^${window.id} .* db upgrade$`, 'm'));
    expect(ok(await local('maintenance', 'end', 'platform', window.id))).toBe(
      `Ended maintenance window ${window.id} on platform\n`,
    );
    expect(ok(await local('maintenance', 'list', 'platform'))).toBe('No maintenance windows on platform.\n');
  });

  it("refuses bad times and flags by name before any request (exit 2); the API's refusals exit 1", async () => {
    const refused = async (args: string[], message: string | RegExp) => {
      const ran = await cli(args);
      expect(ran.code, ran.stderr).toBe(2);
      expect(ran.stderr).toMatch(message);
    };
    await refused(
      ['maintenance', 'start', 'platform', '--to', '+1h', '--for', '1h'],
      /^klaxon: --to and --for: give one\n$/,
    );
    await refused(['maintenance', 'start', 'platform'], /^klaxon: --to or --for is required\n$/);
    await refused(
      ['maintenance', 'start', 'platform', '--for', '2 hours'],
      /^klaxon: --for: expected a duration/,
    );
    await refused(
      ['oncall', 'checkout-primary', '--at', '2031-02-30 09:00'],
      /^klaxon: --at: expected a time .*got "2031-02-30 09:00"\n$/,
    );
    await refused(['oncall', 'checkout-primary', '--at', 'tomorrow'], /^klaxon: --at: expected a time/);
    await refused(
      ['oncall', 'checkout-primary', '--at', '2031-02-30T09:00Z'],
      /^klaxon: --at: expected a time/,
    );
    await refused(
      ['oncall', 'checkout-primary', '--at', '2031-03-01 24:00'],
      /^klaxon: --at: expected a time/,
    );
    // 01:30 on the last Sunday of March does not exist in London: not read as 02:30.
    const gap = await cli(['oncall', 'checkout-primary', '--at', '2031-03-30 01:30'], {
      TZ: 'Europe/London',
    });
    expect(gap.code, gap.stderr).toBe(2);
    expect(gap.stderr).toBe(
      'klaxon: --at: "2031-03-30 01:30" does not exist in your time zone (the clocks jump over it); give another time or an offset\n',
    );
    await refused(
      ['override', 'add', 'checkout-primary', '--for', '1h'],
      /^klaxon: --responder is required\n$/,
    );
    await refused(['override', 'list'], /^klaxon: missing <schedule> \(see klaxon override list --help\)\n$/);
    expect(await local('oncall', 'nosuchschedule')).toMatchObject({
      code: 1,
      stderr: 'klaxon: 404 no schedule nosuchschedule\n',
    });
    const backwards = await local(
      'override',
      'add',
      'checkout-primary',
      '--responder',
      'carol',
      '--from',
      '2031-01-02T00:00Z',
      '--to',
      '2031-01-01T00:00Z',
    );
    expect(backwards).toMatchObject({ code: 1 });
    expect(backwards.stderr).toMatch(/^klaxon: 400 .*\(to: must be after from\)\n$/);
    const group = await cli(['override']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('override add <schedule>');
  });
});

describe('klaxon incident commands: errors and help', { timeout: 60_000 }, () => {
  it('an unknown incident: exit 1 with the API message', async () => {
    expect(await local('ack', 'nosuchincident')).toMatchObject({
      code: 1,
      stderr: 'klaxon: 404 no incident nosuchincident\n',
    });
  });

  it('with --json an error is JSON on stderr too (stdout stays empty), with its exit code', async () => {
    const failed = await local('ack', 'nosuchincident', '--json');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(JSON.parse(failed.stderr)).toEqual({
      error: { message: '404 no incident nosuchincident', exitCode: 1, status: 404, errors: [] },
    });
    const usage = await cli([
      'create',
      '--service',
      'checkout',
      '--title',
      'x',
      '--severity',
      'SEV-9',
      '--json',
    ]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toMatchObject({ error: { exitCode: 2 } });
  });

  it('a bad severity: exit 2 naming it, before any request', async () => {
    const flag = await cli(['create', '--service', 'checkout', '--title', 'x', '--severity', 'SEV-9']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^klaxon: --severity: .*"SEV-1"\|"SEV-2"\|"SEV-3"\|"SEV-4"\n$/);
    const positional = await cli(['severity', 'someid', 'SEV-0', '--reason', 'x']);
    expect(positional.code).toBe(2);
    expect(positional.stderr).toMatch(/^klaxon: severity: /);
  });

  it("the API's field errors: exit 1 with field: message", async () => {
    const ran = await local('create', '--service', 'nope', '--title', 'x', '--severity', 'SEV-3');
    expect(ran).toMatchObject({
      code: 1,
      stderr: 'klaxon: 400 unknown service (service: no service "nope" in the config)\n',
    });
  });

  it('no token: a clear message, exit 2; a wrong one: 401, exit 1', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'klaxon-no-token-'));
    try {
      const ran = await cli(['list', '--url', klaxon.url], { KLAXON_DATA_DIR: empty });
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/^klaxon: no API token: pass --token or set KLAXON_API_TOKEN/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const wrong = await cli(['list'], { KLAXON_URL: klaxon.url, KLAXON_API_TOKEN: 'not-the-token' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^klaxon: 401 /);
  });

  it('usage mistakes exit 2 and point at the help', async () => {
    expect(await cli(['checklist', 'tick', 'someid'])).toMatchObject({
      code: 2,
      stderr: 'klaxon: missing <item> (see klaxon checklist tick --help)\n',
    });
  });

  it('--help explains each command (the binary, and every command in process)', async () => {
    const create = ok(await cli(['create', '--help']));
    expect(create).toContain('klaxon create --service <id> --title <text>');
    expect(create).toContain('--users-affected <%>');
    expect(create).toContain('--endpoint <url>');
    const generate = ok(await cli(['postmortem', 'generate', '--help']));
    expect(generate).toContain(
      '--template <name>    default, deployment, resource-exhaustion, dependency-failure',
    );
    const note = ok(await cli(['note', '--help']));
    expect(note).toContain('--type <TYPE>        ACTION, DECISION, OBSERVATION, QUESTION, ANSWER, UPDATE');
    expect(note).toContain('the next status-update reminder comes one interval');
    const group = ok(await cli(['role', '--help']));
    expect(group).toContain('klaxon role assign <id> <role> <person>');
    expect(group).toContain('klaxon role remove <id> <role> [<person>]');

    for (const name of INCIDENT_COMMAND_NAMES) {
      let out = '';
      const code = await runIncidentCommand([...name.split(' '), '--help'], {
        stdout: (text) => {
          out += text;
        },
        stderr: () => {},
      });
      expect(code).toBe(0);
      expect(out, name).toMatch(new RegExp(`^Usage:\\n {2}klaxon ${name} `));
      expect(out, name).toContain('--json');
    }
  });
});

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP server that records requests and answers `answer`. */
async function recorder(answer: unknown): Promise<{ url: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('klaxon against a deployed stack: SigV4-signed requests (execute-api)', { timeout: 60_000 }, () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const signingDate = new Date('2026-11-20T08:00:00.000Z');

  it('signs with the fixed credentials and date, and sends exactly what it signed', async () => {
    const { url, requests, server } = await recorder({ ok: true });
    try {
      const client = apiClient(
        { endpoint: `${url}/prod`, region: 'eu-west-1' },
        { credentials, signingDate },
      );
      await client.json({
        method: 'POST',
        path: apiPath('incidents', 'abc', 'acknowledge'),
        body: { who: 'alice' },
      });
      await client.json({
        method: 'GET',
        path: apiPath('incidents', 'abc', 'postmortem'),
        query: { template: 'deployment', authors: "alice, o'brien" },
      });
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /prod/api/incidents/abc/acknowledge',
        'GET /prod/api/incidents/abc/postmortem?template=deployment&authors=alice%2C%20o%27brien',
      ]);
      const verifier = new SignatureV4({
        service: 'execute-api',
        region: 'eu-west-1',
        credentials,
        sha256: Sha256,
      });
      for (const req of requests) {
        const authorization = String(req.headers.authorization);
        expect(authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261120\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9-]+;)*host;([a-z0-9-]+;)*x-amz-date(;[a-z0-9-]+)*, Signature=[0-9a-f]{64}$/,
        );
        const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
        expect(signedHeaders).toEqual(
          req.method === 'POST'
            ? ['accept', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date']
            : ['accept', 'host', 'x-amz-content-sha256', 'x-amz-date'],
        );
        expect(req.headers['x-amz-date']).toBe('20261120T080000Z');
        // What API Gateway does: recompute the signature from the request as it arrived.
        const arrived = new URL(req.url, url);
        const resigned = await verifier.sign(
          {
            method: req.method,
            protocol: 'http:',
            hostname: arrived.hostname,
            port: Number(arrived.port),
            path: arrived.pathname,
            query: Object.fromEntries(arrived.searchParams),
            headers: Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h])])),
            ...(req.body ? { body: req.body } : {}),
          },
          { signingDate },
        );
        expect(resigned.headers.authorization).toBe(authorization);
      }
    } finally {
      await close(server);
    }
  });

  it('the binary signs with the default credential chain (environment) for --endpoint', async () => {
    const { url, requests, server } = await recorder({ incident: { id: 'abc' }, rendered: [] });
    try {
      const ran = await cli(
        ['show', 'abc', '--endpoint', `${url}/prod/`, '--region', 'eu-west-1', '--json'],
        {
          AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session-token',
        },
      );
      expect(JSON.parse(ok(ran))).toEqual({ incident: { id: 'abc' }, rendered: [] });
      expect(requests).toHaveLength(1);
      const [req] = requests;
      expect(req?.url).toBe('/prod/api/incidents/abc');
      expect(req?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDFROMENV\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, /,
      );
      expect(req?.headers['x-amz-security-token']).toBe('session-token');
    } finally {
      await close(server);
    }
  });
});

/** Runs an incident command in process; what it printed, and the error it threw. */
async function inProcess(args: readonly string[]): Promise<{ stdout: string; error?: unknown }> {
  let stdout = '';
  const io = {
    stdout: (text: string) => {
      stdout += text;
    },
    stderr: () => {},
  };
  try {
    await runIncidentCommand(args, io);
    return { stdout };
  } catch (error) {
    return { stdout, error };
  }
}

describe('klaxon incident commands in process, against a recording server', { timeout: 60_000 }, () => {
  it('`actions add --json` prints the API response ({actionItem}), as `actions done --json` does', async () => {
    const actionItem = {
      id: 'i1',
      action: 'Add a canary',
      owner: 'alice',
      deadline: '2099-01-01',
      category: 'Prevent',
    };
    const { url, server } = await recorder({ actionItem });
    try {
      const args = ['--url', url, '--token', 't', '--json'];
      const added = await inProcess([
        'actions',
        'add',
        'abc',
        '--action',
        'Add a canary',
        '--owner',
        'alice',
        '--deadline',
        '2099-01-01',
        '--category',
        'Prevent',
        ...args,
      ]);
      expect(JSON.parse(added.stdout)).toEqual({ actionItem });
      expect(JSON.parse((await inProcess(['actions', 'done', 'abc', 'i1', ...args])).stdout)).toEqual({
        actionItem,
      });
    } finally {
      await close(server);
    }
  });

  it('a retried create (the API answers created: false) says "Already open", a new one "Opened"', async () => {
    const incident = { id: 'abc', title: 'Checkout returns 500s', sev: 'SEV-2' };
    for (const created of [false, true]) {
      const { url, server } = await recorder({ incident, created, warRoom: '#incident-x' });
      try {
        const ran = await inProcess([
          'create',
          '--service',
          'checkout',
          '--title',
          'Checkout returns 500s',
          '--severity',
          'SEV-2',
          '--url',
          url,
          '--token',
          't',
        ]);
        expect(ran.stdout.split('\n')[0]).toBe(
          `${created ? 'Opened' : 'Already open'} incident abc: Checkout returns 500s`,
        );
      } finally {
        await close(server);
      }
    }
  });

  it('show gives every time in the zone of the timeline (the config’s), and names it', async () => {
    // UTC+14 all year: no laptop running this is on it.
    const { url, server } = await recorder({
      incident: {
        id: 'abc',
        title: 'Checkout returns 500s',
        sev: 'SEV-2',
        status: 'resolved',
        service: 'checkout',
        roles: {},
        postmortemDoneBy: 'tester',
        source: 'db-1',
        detectedAt: '2026-11-26T09:00:00.000Z',
        acknowledgedAt: '2026-11-26T09:02:00.000Z',
        lastAcknowledgedAt: '2026-11-26T09:40:00.000Z',
        acknowledgedBy: 'alice',
      },
      rendered: ['[00:05] [@tester] [POSTMORTEM_PUBLISHED] Postmortem published'],
      postmortem: { required: true, doneAt: '2026-11-26T10:05:00.000Z' },
      timeZone: 'Pacific/Kiritimati',
    });
    try {
      const shown = (await inProcess(['show', 'abc', '--url', url, '--token', 't'])).stdout;
      expect(shown).toMatch(/^ {2}postmortem {1}published 2026-11-27 00:05 GMT\+14 by @tester$/m);
      // The lifecycle's times, as the timeline's: detected, acknowledged (and by whom), the source.
      expect(shown).toMatch(/^ {2}source {5}db-1$/m);
      expect(shown).toMatch(/^ {2}detected {3}2026-11-26 23:00 GMT\+14$/m);
      // The latest acknowledgement with whoever made it, and the first one's time.
      expect(shown).toMatch(
        /^ {2}acked {6}2026-11-26 23:40 GMT\+14 by @alice \(first 2026-11-26 23:02 GMT\+14\)$/m,
      );
      expect(shown).not.toMatch(/^ {2}mitigated/m);
      expect(shown).toContain('\nTimeline (Pacific/Kiritimati)\n  [00:05] [@tester] [POSTMORTEM_PUBLISHED]');
    } finally {
      await close(server);
    }
  });

  it('refuses by name a target flag that does not apply to the target chosen, before any request', async () => {
    const { url, requests, server } = await recorder({ incident: { id: 'abc' }, changed: true });
    const endpoint = 'https://abc.execute-api.eu-west-1.amazonaws.com/';
    try {
      for (const [args, message] of [
        [
          ['show', 'abc', '--url', url, '--region', 'eu-west-1'],
          '--region does not apply without --endpoint',
        ],
        [['ack', 'abc', '--endpoint', endpoint, '--url', url], '--url does not apply with --endpoint'],
        [['list', '--endpoint', endpoint, '--token', 't'], '--token does not apply with --endpoint'],
      ] as const) {
        const ran = await inProcess(args);
        expect(ran.error, args.join(' ')).toBeInstanceOf(UsageError);
        expect(String((ran.error as Error).message)).toContain(message);
      }
      expect(requests).toEqual([]);
    } finally {
      await close(server);
    }
  });
});

describe('the local Klaxon the CLI talks to', () => {
  it('is KLAXON_URL, else the PORT npm start reads, else port 3000', () => {
    expect(localUrl({ KLAXON_URL: 'http://10.0.0.5:4000', PORT: '3917' })).toBe('http://10.0.0.5:4000');
    expect(localUrl({ PORT: '3917' })).toBe('http://127.0.0.1:3917');
    expect(localUrl({})).toBe('http://127.0.0.1:3000');
  });
});
