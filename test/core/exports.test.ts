import { readFile, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_ORIGINS } from '#core/alert';
import {
  CSV_CONTENT_TYPE,
  columnsMarkdown,
  type ExportColumn,
  ExportRowError,
  exportFiles,
  exportKeys,
  guardFormula,
  INCIDENT_COLUMNS,
  type IncidentExportRow,
  incidentExportRow,
  JSONL_CONTENT_TYPE,
  parseCsv,
  plainNumber,
  ROLLUP_COLUMNS,
  type RollupExportRow,
  toCsv,
  toJsonLines,
} from '#core/exports';
import { INCIDENT_STATUSES, type Incident } from '#core/incident';
import { UNCOMMANDED } from '../support/incident.ts';

const incident: Incident = {
  id: '7kq2mzx4ab3c',
  service: 'checkout',
  dedupKey: 'HighErrorRate',
  occurrence: 0,
  status: 'resolved',
  title: 'Checkout 5xx above 2%, "payments" degraded',
  source: 'prometheus',
  severity: 'critical',
  sev: 'SEV-1',
  origin: 'alertmanager',
  startedAt: '2026-11-26T14:00:00+01:00',
  detectedAt: '2026-11-26T13:02:00.000Z',
  acknowledgedAt: '2026-11-26T13:05:30.250Z',
  resolvedAt: '2026-11-26T14:00:00Z',
  ...UNCOMMANDED,
  alertCount: 3,
  lastAlertAt: '2026-11-26T13:10:00.000Z',
  version: 7,
  generation: 1,
  step: 1,
  stepAt: '2026-11-26T13:02:00.000Z',
  escalation: 'active',
  reminderSeq: 0,
  escalations: 1,
  pagesSent: 4,
  excluded: false,
};

const incidentRow: IncidentExportRow = {
  id: '7kq2mzx4ab3c',
  service: 'checkout',
  severity: 'SEV-1',
  source_severity: 'critical',
  status: 'resolved',
  title: 'Checkout 5xx above 2%, "payments" degraded',
  dedup_key: 'HighErrorRate',
  origin: 'alertmanager',
  started_at: '2026-11-26T13:00:00.000Z',
  detected_at: '2026-11-26T13:02:00.000Z',
  acknowledged_at: '2026-11-26T13:05:30.250Z',
  resolved_at: '2026-11-26T14:00:00.000Z',
  mttd_seconds: 120,
  mtta_seconds: 210.25,
  mttr_seconds: 3600,
  alert_count: 3,
  escalations: 1,
  pages_sent: 4,
  excluded: false,
  impact_severity: null,
};

const rollupRow: RollupExportRow = {
  day: '2026-11-26',
  service: 'checkout',
  severity: 'SEV-1',
  incidents: 1,
  opened: 1,
  resolved: 1,
  still_open: 0,
  excluded: 0,
  mttd_mean: 120,
  mttd_p50: 120,
  mttd_p90: 120,
  mtta_mean: 210.25,
  mtta_p50: 210.25,
  mtta_p90: 210.25,
  mttr_mean: 3600,
  mttr_p50: 3600,
  mttr_p90: 3600,
  mtbf_mean: null,
  mtbf_p50: null,
  mtbf_p90: null,
  breaches_mttd: 0,
  breaches_mtta: 0,
  breaches_mttr: 0,
  escalations: 1,
  pages_sent: 4,
  downtime_minutes: 60,
  clamped: 1,
};

/** One column of every type, each nullable: the writers' general behaviour. */
const ALL_TYPES: readonly ExportColumn[] = [
  { name: 'text', type: 'string', nullable: true, description: '' },
  { name: 'count', type: 'bigint', nullable: true, description: '' },
  { name: 'ratio', type: 'double', nullable: true, description: '' },
  { name: 'at', type: 'timestamp', nullable: true, description: '' },
  { name: 'flag', type: 'boolean', nullable: true, description: '' },
];

const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom(',', '"', '\r', '\n', '\r\n', '=', '+', '-', '@', '\t', "'", 'a', ' ', 'é', '🚨'),
  }),
);
const hiveTimestamp = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString().replace('T', ' ').replace('Z', ''));
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const anyRow = fc.record({
  text: fc.option(anyString, { nil: null }),
  count: fc.option(fc.maxSafeInteger(), { nil: null }),
  ratio: fc.option(finiteDouble, { nil: null }),
  at: fc.option(hiveTimestamp, { nil: null }),
  flag: fc.option(fc.boolean(), { nil: null }),
});

describe('export columns', () => {
  it('lists the incident columns in order, snake_case and unique', () => {
    expect(INCIDENT_COLUMNS.map((c) => c.name)).toEqual([
      'id',
      'service',
      'severity',
      'source_severity',
      'status',
      'title',
      'dedup_key',
      'origin',
      'started_at',
      'detected_at',
      'acknowledged_at',
      'resolved_at',
      'mttd_seconds',
      'mtta_seconds',
      'mttr_seconds',
      'alert_count',
      'escalations',
      'pages_sent',
      'excluded',
      // Added last: a CSV table's columns are read by position.
      'impact_severity',
    ]);
  });

  it('lists the rollup columns in order', () => {
    expect(ROLLUP_COLUMNS.map((c) => c.name)).toEqual([
      'day',
      'service',
      'severity',
      'incidents',
      'opened',
      'resolved',
      'still_open',
      'excluded',
      'mttd_mean',
      'mttd_p50',
      'mttd_p90',
      'mtta_mean',
      'mtta_p50',
      'mtta_p90',
      'mttr_mean',
      'mttr_p50',
      'mttr_p90',
      'mtbf_mean',
      'mtbf_p50',
      'mtbf_p90',
      'breaches_mttd',
      'breaches_mtta',
      'breaches_mttr',
      'escalations',
      'pages_sent',
      'downtime_minutes',
      'clamped',
    ]);
  });

  it.each([
    ['incidents', INCIDENT_COLUMNS],
    ['rollups', ROLLUP_COLUMNS],
  ] as const)('%s: names are unique snake_case, every column has a description', (_, columns) => {
    const names = columns.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const column of columns) {
      expect(column.name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(column.description.length).toBeGreaterThan(5);
    }
  });

  it('types the incident timestamps as ISO strings (nullable only where an incident may lack them)', () => {
    const types = Object.fromEntries(INCIDENT_COLUMNS.map((c) => [c.name, [c.type, c.nullable]]));
    expect(types.started_at).toEqual(['string', false]);
    expect(types.acknowledged_at).toEqual(['string', true]);
    expect(types.resolved_at).toEqual(['string', true]);
    expect(types.mtta_seconds).toEqual(['double', true]);
    expect(types.pages_sent).toEqual(['bigint', false]);
    expect(types.excluded).toEqual(['boolean', false]);
  });
});

describe('incidentExportRow', () => {
  it('maps an incident: SEV-n from the source severity, UTC timestamps, durations in seconds', () => {
    expect(incidentExportRow(incident)).toEqual(incidentRow);
  });

  it('leaves the acknowledgement and resolution null on an open incident, and their durations', () => {
    const { acknowledgedAt: _a, resolvedAt: _r, ...open } = incident;
    const row = incidentExportRow({ ...open, status: 'triggered' });
    expect(row).toMatchObject({
      acknowledged_at: null,
      resolved_at: null,
      mtta_seconds: null,
      mttr_seconds: null,
    });
    expect(row.mttd_seconds).toBe(120);
  });

  it('exports every status and origin as they are, and the severity as re-assessed — and says so', () => {
    const described = (name: string) => INCIDENT_COLUMNS.find((c) => c.name === name)?.description ?? '';
    for (const status of INCIDENT_STATUSES) {
      expect(incidentExportRow({ ...incident, status }).status).toBe(status);
      expect(described('status'), status).toMatch(new RegExp(`\\b${status}\\b`));
    }
    for (const origin of ALERT_ORIGINS) {
      expect(incidentExportRow({ ...incident, origin }).origin).toBe(origin);
      expect(described('origin'), origin).toMatch(new RegExp(`(^|[ :])${origin}\\b`));
    }
    // Lowered by people from SEV-1 (critical) to SEV-3: the export shows SEV-3, not the source's mapping.
    expect(
      incidentExportRow({ ...incident, severity: 'critical', sev: 'SEV-3', severityFrom: 'SEV-1' }),
    ).toMatchObject({ severity: 'SEV-3', source_severity: 'critical' });
    expect(described('severity')).toMatch(/re-assess/);
    expect(described('severity')).toMatch(/severityMapping/);
  });

  it('counts a negative duration (clock skew) as 0', () => {
    expect(incidentExportRow({ ...incident, startedAt: '2026-11-26T13:03:00Z' }).mttd_seconds).toBe(0);
  });

  it('refuses a timestamp without an offset (it would depend on the host zone)', () => {
    expect(() => incidentExportRow({ ...incident, detectedAt: '2026-11-26T13:02:00' })).toThrow(/offset/);
  });
});

describe('toJsonLines', () => {
  it('writes one object per row, keys in column order, only the declared columns, \\n after each', () => {
    const text = toJsonLines(
      [
        { flag: true, at: null, ratio: 0.5, count: 2, text: 'a', extra: 'dropped' },
        { text: null, count: null, ratio: null, at: '2026-11-26 13:02:00.000', flag: false },
      ],
      ALL_TYPES,
    );
    expect(text).toBe(
      '{"text":"a","count":2,"ratio":0.5,"at":null,"flag":true}\n' +
        '{"text":null,"count":null,"ratio":null,"at":"2026-11-26 13:02:00.000","flag":false}\n',
    );
  });

  it('writes nothing for no rows', () => {
    expect(toJsonLines([], INCIDENT_COLUMNS)).toBe('');
  });

  it('keeps a formula-like value raw', () => {
    expect(toJsonLines([{ ...incidentRow, title: '=HYPERLINK("x")' }], INCIDENT_COLUMNS)).toContain(
      '"title":"=HYPERLINK(\\"x\\")"',
    );
  });

  it('each line parses back to its row (property)', () => {
    fc.assert(
      fc.property(fc.array(anyRow, { maxLength: 5 }), (rows) => {
        const text = toJsonLines(rows, ALL_TYPES);
        expect(text.endsWith('\n') || rows.length === 0).toBe(true);
        const lines = text.split('\n').slice(0, -1);
        expect(lines).toHaveLength(rows.length);
        // -0 is written as 0 by JSON; compare with that normalization.
        expect(lines.map((l) => JSON.parse(l))).toEqual(
          rows.map((r) => ({ ...r, ratio: Object.is(r.ratio, -0) ? 0 : r.ratio })),
        );
      }),
    );
  });
});

describe('toCsv', () => {
  it('writes the column names as the header, CRLF after every record', () => {
    const csv = toCsv([incidentRow], INCIDENT_COLUMNS);
    const [header, record, end] = csv.split('\r\n');
    expect(header).toBe(INCIDENT_COLUMNS.map((c) => c.name).join(','));
    expect(record).toBe(
      '7kq2mzx4ab3c,checkout,SEV-1,critical,resolved,"Checkout 5xx above 2%, ""payments"" degraded",HighErrorRate,' +
        'alertmanager,2026-11-26T13:00:00.000Z,2026-11-26T13:02:00.000Z,2026-11-26T13:05:30.250Z,' +
        '2026-11-26T14:00:00.000Z,120,210.25,3600,3,1,4,false,',
    );
    expect(end).toBe('');
    expect(parseCsv(toCsv([], ROLLUP_COLUMNS))).toEqual([ROLLUP_COLUMNS.map((c) => c.name)]);
  });

  it('writes null as an empty field and the empty string as ""', () => {
    expect(toCsv([{ text: '', count: null, ratio: null, at: null, flag: null }], ALL_TYPES)).toBe(
      'text,count,ratio,at,flag\r\n"",,,,\r\n',
    );
    expect(parseCsv('text,count\r\n"",\r\n')).toEqual([
      ['text', 'count'],
      ['', null],
    ]);
  });

  it('writes the rollup nulls as empty fields', () => {
    const [, record] = parseCsv(toCsv([rollupRow], ROLLUP_COLUMNS));
    expect(record?.slice(17, 20)).toEqual([null, null, null]);
  });

  it('quotes fields with a comma, quote, CR or LF, doubling quotes', () => {
    const csv = toCsv(
      ['a,b', 'say "hi"', 'line\nbreak', 'cr\rhere', 'plain'].map((text) => ({
        text,
        count: 1,
        ratio: 1,
        at: null,
        flag: true,
      })),
      ALL_TYPES,
    );
    expect(csv.split('\r\n').slice(1, -1)).toEqual([
      '"a,b",1,1,,true',
      '"say ""hi""",1,1,,true',
      '"line\nbreak",1,1,,true',
      '"cr\rhere",1,1,,true',
      'plain,1,1,,true',
    ]);
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+41 44 000 00 00', "'+41 44 000 00 00"],
    ['-2 errors', "'-2 errors"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=cmd', "'\t=cmd"],
    ['\rnext', "'\rnext"],
    ['a=b', 'a=b'],
    ["'=already", "'=already"],
  ])('guards the formula-like string %j as %j in CSV only', (value, guarded) => {
    expect(guardFormula(value)).toBe(guarded);
    const row = { text: value, count: -3, ratio: -1.5, at: null, flag: null };
    expect(parseCsv(toCsv([row], ALL_TYPES))[1]).toEqual([guarded, '-3', '-1.5', null, null]);
    expect(JSON.parse(toJsonLines([row], ALL_TYPES)).text).toBe(value);
  });

  it('round-trips arbitrary rows through parseCsv (property)', () => {
    fc.assert(
      fc.property(fc.array(anyRow, { maxLength: 5 }), (rows) => {
        const parsed = parseCsv(toCsv(rows, ALL_TYPES));
        expect(parsed[0]).toEqual(ALL_TYPES.map((c) => c.name));
        expect(parsed.slice(1)).toEqual(
          rows.map((r) => [
            r.text === null ? null : guardFormula(r.text),
            r.count === null ? null : String(r.count),
            r.ratio === null ? null : plainNumber(r.ratio),
            r.at,
            r.flag === null ? null : String(r.flag),
          ]),
        );
      }),
    );
  });

  it('round-trips arbitrary strings exactly when no guard applies (property)', () => {
    fc.assert(
      fc.property(
        anyString.filter((s) => guardFormula(s) === s),
        (text) => {
          const [, record] = parseCsv(
            toCsv([{ text, count: null, ratio: null, at: null, flag: null }], ALL_TYPES),
          );
          expect(record?.[0]).toBe(text);
        },
      ),
    );
  });
});

describe('plainNumber', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1.5, '1.5'],
    [1e21, '1000000000000000000000'],
    [-1.5e-7, '-0.00000015'],
    [123456789.125, '123456789.125'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  ])('%d → %s', (value, text) => {
    expect(plainNumber(value)).toBe(text);
  });

  it('never writes an exponent and reads back to the same number (property)', () => {
    fc.assert(
      fc.property(finiteDouble, (value) => {
        const text = plainNumber(value);
        expect(text).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Number(text)).toBe(Object.is(value, -0) ? 0 : value);
      }),
    );
  });
});

describe('row validation', () => {
  const bad = (patch: Record<string, unknown>) => [
    { text: 'ok', count: 1, ratio: 1, at: null, flag: true },
    patch,
  ];

  it.each([
    [
      { text: 'x', count: 1.5, ratio: 1, at: null, flag: true },
      'count',
      /expected an integer.*got number 1.5/,
    ],
    [{ text: 'x', count: 2 ** 53, ratio: 1, at: null, flag: true }, 'count', /expected an integer/],
    [
      { text: 'x', count: 1, ratio: '12', at: null, flag: true },
      'ratio',
      /expected a finite number or null, got string "12"/,
    ],
    [{ text: 'x', count: 1, ratio: Number.NaN, at: null, flag: true }, 'ratio', /got number NaN/],
    [
      { text: 'x', count: 1, ratio: Number.POSITIVE_INFINITY, at: null, flag: true },
      'ratio',
      /got number Infinity/,
    ],
    [
      { text: 1, count: 1, ratio: 1, at: null, flag: true },
      'text',
      /expected a string or null, got number 1/,
    ],
    [{ text: 'x', count: 1, ratio: 1, at: '2026-11-26T13:02:00Z', flag: true }, 'at', /expected a timestamp/],
    [{ text: 'x', count: 1, ratio: 1, at: null, flag: 'true' }, 'flag', /expected a boolean or null/],
    [{ text: 'x', count: 1, ratio: 1, at: null }, 'flag', /missing \(use null/],
  ])('rejects %j naming row 1 and column %s', (row, column, message) => {
    for (const write of [toJsonLines, toCsv]) {
      let error: unknown;
      try {
        write(bad(row), ALL_TYPES);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExportRowError);
      expect(error).toMatchObject({ row: 1, column });
      expect((error as Error).message).toMatch(`export row 1, column "${column}": `);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('rejects null in a column that is not nullable', () => {
    expect(() => toJsonLines([{ ...incidentRow, started_at: null }], INCIDENT_COLUMNS)).toThrow(
      'export row 0, column "started_at": expected a string, got null',
    );
    expect(() => toCsv([{ ...rollupRow, pages_sent: null }], ROLLUP_COLUMNS)).toThrow(
      'export row 0, column "pages_sent": expected an integer (safe range), got null',
    );
  });
});

describe('parseCsv', () => {
  it('reads LF line ends too, and a last record without a line end', () => {
    expect(parseCsv('a,b\n1,"x\r\ny"')).toEqual([
      ['a', 'b'],
      ['1', 'x\r\ny'],
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it.each([
    ['"open', /unterminated quoted field starting at offset 0/],
    ['a"b', /quote inside an unquoted field at offset 1/],
    ['"a"b', /expected a comma or a line end at offset 3/],
    ['a\rb', /expected a comma or a line end at offset 1/],
  ])('rejects malformed %j', (text, message) => {
    expect(() => parseCsv(text)).toThrow(message);
  });
});

describe('exportKeys and exportFiles', () => {
  it('gives each table and format its own top-level folder, partitioned by dt', () => {
    expect(exportKeys('exports/', '2026-11-26')).toEqual({
      incidentsJsonl: 'exports/incidents/dt=2026-11-26/incidents.jsonl',
      incidentsCsv: 'exports/incidents_csv/dt=2026-11-26/incidents.csv',
      rollupsJsonl: 'exports/rollups/dt=2026-11-26/rollups.jsonl',
      rollupsCsv: 'exports/rollups_csv/dt=2026-11-26/rollups.csv',
    });
    expect(exportKeys('', '2026-11-26').incidentsJsonl).toBe('incidents/dt=2026-11-26/incidents.jsonl');
  });

  it.each([
    ['exports', '2026-11-26', /prefix/],
    ['/exports/', '2026-11-26', /prefix/],
    ['', '2026-02-30', /day/],
    ['', '26-11-2026', /day/],
    ['', '2026-11-26/../x', /day/],
  ])('rejects prefix %j with day %j', (prefix, day, message) => {
    expect(() => exportKeys(prefix, day)).toThrow(message);
  });

  it('renders the four files of a day with their content types', () => {
    const files = exportFiles('', '2026-11-26', { incidents: [incidentRow], rollups: [rollupRow] });
    expect(files.map((f) => [f.key, f.contentType])).toEqual([
      ['incidents/dt=2026-11-26/incidents.jsonl', JSONL_CONTENT_TYPE],
      ['incidents_csv/dt=2026-11-26/incidents.csv', CSV_CONTENT_TYPE],
      ['rollups/dt=2026-11-26/rollups.jsonl', JSONL_CONTENT_TYPE],
      ['rollups_csv/dt=2026-11-26/rollups.csv', CSV_CONTENT_TYPE],
    ]);
    expect(JSON.parse(files[0]?.body ?? '')).toEqual(incidentRow);
    expect(JSON.parse(files[2]?.body ?? '')).toEqual(rollupRow);
  });
});

describe('docs/EXPORTS.md', () => {
  const docs = new URL('../../docs/EXPORTS.md', import.meta.url);
  const tables = [
    ['incidents', INCIDENT_COLUMNS],
    ['rollups', ROLLUP_COLUMNS],
  ] as const;
  const section = (name: string) =>
    new RegExp(`(<!-- columns:${name}:start -->\\n)([\\s\\S]*?)\\n?(<!-- columns:${name}:end -->)`);

  it('lists every column with its type and meaning, as generated from the definitions', async () => {
    let text = await readFile(docs, 'utf8');
    if (process.env.KLAXON_WRITE_DOCS === '1') {
      for (const [name, columns] of tables) {
        text = text.replace(section(name), (_, start: string, _old: string, end: string) => {
          return `${start}${columnsMarkdown(columns)}\n${end}`;
        });
      }
      await writeFile(docs, text);
    }
    for (const [name, columns] of tables) {
      const match = section(name).exec(text);
      expect(match, `docs/EXPORTS.md needs the ${name} column markers`).not.toBeNull();
      for (const column of columns) expect(match?.[2]).toContain(`| \`${column.name}\` | ${column.type} |`);
      expect(match?.[2], 'regenerate: KLAXON_WRITE_DOCS=1 npx vitest run test/core/exports.test.ts').toBe(
        columnsMarkdown(columns),
      );
    }
  });
});
