import { KlaxonError } from './errors.ts';
import type { Incident } from './incident.ts';

/**
 * Nightly analyst exports: incidents and metric rollups as JSON Lines (canonical, lossless, what
 * Athena queries) and CSV (for spreadsheets), one file per table, format and day, partitioned by
 * `dt=YYYY-MM-DD`. The column definitions below are the single source of the CSV header, the JSON
 * keys, the Glue table schemas (the CDK stack imports them) and docs/EXPORTS.md (a test keeps it in
 * step). Timestamps are ISO-8601 UTC strings in `string` columns: see docs/EXPORTS.md for why.
 */

/** Glue/Athena column types (the names are Glue's). */
export type ColumnType = 'string' | 'bigint' | 'double' | 'timestamp' | 'boolean';

export interface ExportColumn {
  /** snake_case: the JSON key, the CSV header and the Glue column name. */
  readonly name: string;
  readonly type: ColumnType;
  readonly description: string;
  /** Whether the value may be null (JSON `null`, an empty unquoted CSV field). */
  readonly nullable: boolean;
}

const ISO_UTC = 'ISO-8601 UTC (`2026-11-26T14:23:20.000Z`)';

export const INCIDENT_COLUMNS = [
  { name: 'id', type: 'string', nullable: false, description: 'Incident id (stable, 12 characters).' },
  { name: 'service', type: 'string', nullable: false, description: 'Service id from the config.' },
  {
    name: 'severity',
    type: 'string',
    nullable: false,
    description:
      "SEV-1..SEV-4 as of the export, after any re-assessment. At opening: the service's severityMapping of source_severity, else critical→SEV-1, error→SEV-2, warning→SEV-3, info→SEV-4; declared: as given or classified.",
  },
  {
    name: 'source_severity',
    type: 'string',
    nullable: false,
    description:
      'Severity of the alert that opened the incident: critical, error, warning or info (a declared incident: the one that maps to its declared severity by default).',
  },
  {
    name: 'status',
    type: 'string',
    nullable: false,
    description:
      'triggered, acknowledged, mitigated, monitoring (resolved, watched for a re-trigger during the monitoring period) or resolved, as of the export.',
  },
  {
    name: 'title',
    type: 'string',
    nullable: false,
    description:
      'Title (the summary of the alert that opened it); free text, may hold commas, quotes, line breaks.',
  },
  {
    name: 'dedup_key',
    type: 'string',
    nullable: false,
    description: 'Dedup key: triggers with the same (service, dedup key) count into one open incident.',
  },
  {
    name: 'origin',
    type: 'string',
    nullable: false,
    description:
      'Input format of the alert that opened it: events-v2, alertmanager, grafana, cloudwatch, native or heartbeat; manual for an incident a person declared (API, CLI).',
  },
  {
    name: 'started_at',
    type: 'string',
    nullable: false,
    description: `When the problem began: the earliest own timestamp of the alerts counted in (else when Klaxon received the first). ${ISO_UTC}.`,
  },
  {
    name: 'detected_at',
    type: 'string',
    nullable: false,
    description: `When Klaxon opened the incident. ${ISO_UTC}.`,
  },
  {
    name: 'acknowledged_at',
    type: 'string',
    nullable: true,
    description: `First acknowledgement; null if never acknowledged. ${ISO_UTC}.`,
  },
  {
    name: 'resolved_at',
    type: 'string',
    nullable: true,
    description: `Resolution; null while open. ${ISO_UTC}.`,
  },
  {
    name: 'mttd_seconds',
    type: 'double',
    nullable: true,
    description: 'Time to detect: detected_at − started_at, in seconds (negative, from clock skew, as 0).',
  },
  {
    name: 'mtta_seconds',
    type: 'double',
    nullable: true,
    description:
      'Time to acknowledge: acknowledged_at − detected_at, in seconds; null if never acknowledged.',
  },
  {
    name: 'mttr_seconds',
    type: 'double',
    nullable: true,
    description: 'Time to resolve: resolved_at − started_at, in seconds; null while open.',
  },
  {
    name: 'alert_count',
    type: 'bigint',
    nullable: false,
    description: 'Trigger alerts counted into the incident (each input event once).',
  },
  {
    name: 'escalations',
    type: 'bigint',
    nullable: false,
    description: 'Escalations beyond level 1 (later steps and ack-timeout restarts).',
  },
  {
    name: 'pages_sent',
    type: 'bigint',
    nullable: false,
    description: 'Messages sent to contacts for the incident (pages, reminders, notices).',
  },
  {
    name: 'excluded',
    type: 'boolean',
    nullable: false,
    description: 'Marked "exclude from metrics" (a test, a duplicate, a drill): in no rollup statistic.',
  },
  {
    name: 'impact_severity',
    type: 'string',
    nullable: true,
    description:
      'SEV-1..SEV-4 it held when its impact stopped (mitigated, or resolved into monitoring), when it was lowered after that; null otherwise. The rollups count the incident under the more severe of this and severity (downtime, targets).',
  },
] as const satisfies readonly ExportColumn[];

const SAMPLE = 'in seconds (to 0.001); null when the row has no sample';

export const ROLLUP_COLUMNS = [
  {
    name: 'day',
    type: 'string',
    nullable: false,
    description: 'The local day (YYYY-MM-DD, configured time zone); equals the dt partition.',
  },
  { name: 'service', type: 'string', nullable: false, description: 'Service id, or * for all services.' },
  {
    name: 'severity',
    type: 'string',
    nullable: false,
    description: 'SEV-1..SEV-4, or * for all severities.',
  },
  {
    name: 'incidents',
    type: 'bigint',
    nullable: false,
    description:
      "The day's incidents in this row (resolved that day, or started that day and still open); excluded ones not counted.",
  },
  { name: 'opened', type: 'bigint', nullable: false, description: '…of which detected that day.' },
  { name: 'resolved', type: 'bigint', nullable: false, description: '…of which resolved that day.' },
  {
    name: 'still_open',
    type: 'bigint',
    nullable: false,
    description: '…of which unresolved when the rollup ran (counted, never averaged).',
  },
  {
    name: 'excluded',
    type: 'bigint',
    nullable: false,
    description: 'Incidents of the day in this row marked "exclude from metrics" (in no other column).',
  },
  {
    name: 'mttd_mean',
    type: 'double',
    nullable: true,
    description: `Mean time to detect (every incident), ${SAMPLE}.`,
  },
  { name: 'mttd_p50', type: 'double', nullable: true, description: `Median time to detect, ${SAMPLE}.` },
  {
    name: 'mttd_p90',
    type: 'double',
    nullable: true,
    description: `90th percentile time to detect, ${SAMPLE}.`,
  },
  {
    name: 'mtta_mean',
    type: 'double',
    nullable: true,
    description: `Mean time to acknowledge (acknowledged incidents), ${SAMPLE}.`,
  },
  { name: 'mtta_p50', type: 'double', nullable: true, description: `Median time to acknowledge, ${SAMPLE}.` },
  {
    name: 'mtta_p90',
    type: 'double',
    nullable: true,
    description: `90th percentile time to acknowledge, ${SAMPLE}.`,
  },
  {
    name: 'mttr_mean',
    type: 'double',
    nullable: true,
    description: `Mean time to resolve (resolved incidents), ${SAMPLE}.`,
  },
  { name: 'mttr_p50', type: 'double', nullable: true, description: `Median time to resolve, ${SAMPLE}.` },
  {
    name: 'mttr_p90',
    type: 'double',
    nullable: true,
    description: `90th percentile time to resolve, ${SAMPLE}.`,
  },
  {
    name: 'mtbf_mean',
    type: 'double',
    nullable: true,
    description: `Mean time between failures (an incident's started_at − the service's previous resolved_at, when the service was not still failing), ${SAMPLE}.`,
  },
  {
    name: 'mtbf_p50',
    type: 'double',
    nullable: true,
    description: `Median time between failures, ${SAMPLE}.`,
  },
  {
    name: 'mtbf_p90',
    type: 'double',
    nullable: true,
    description: `90th percentile time between failures, ${SAMPLE}.`,
  },
  {
    name: 'breaches_mttd',
    type: 'bigint',
    nullable: false,
    description: 'Incidents with time to detect at or over the target (5 min, every severity).',
  },
  {
    name: 'breaches_mtta',
    type: 'bigint',
    nullable: false,
    description: 'Incidents with time to acknowledge at or over the target (SEV-1 5 min, SEV-2 15 min).',
  },
  {
    name: 'breaches_mttr',
    type: 'bigint',
    nullable: false,
    description: 'Incidents with time to resolve at or over the target (SEV-1 1 h, SEV-2 4 h).',
  },
  { name: 'escalations', type: 'bigint', nullable: false, description: "Sum of the incidents' escalations." },
  { name: 'pages_sent', type: 'bigint', nullable: false, description: "Sum of the incidents' pages_sent." },
  {
    name: 'downtime_minutes',
    type: 'double',
    nullable: false,
    description:
      'Minutes from started_at to resolved_at of the SEV-1/SEV-2 incidents resolved that day: what the error budget counts.',
  },
  {
    name: 'clamped',
    type: 'bigint',
    nullable: false,
    description:
      'Negative durations (MTTD, MTTA or MTTR) counted as 0: a source whose clock runs ahead (docs/METRICS.md). Last, so that tables made before it read on.',
  },
] as const satisfies readonly ExportColumn[];

interface ColumnValue {
  string: string;
  bigint: number;
  double: number;
  timestamp: string;
  boolean: boolean;
}

/** The row shape a column list describes: one key per column, typed by the column's type. */
export type ExportRow<C extends readonly ExportColumn[]> = {
  [K in C[number] as K['name']]: ColumnValue[K['type']] | (K['nullable'] extends true ? null : never);
};
export type IncidentExportRow = ExportRow<typeof INCIDENT_COLUMNS>;
export type RollupExportRow = ExportRow<typeof ROLLUP_COLUMNS>;

/** A row does not match its columns: a bug in the producer, not a transient condition. */
export class ExportRowError extends KlaxonError {
  constructor(
    readonly row: number,
    readonly column: string,
    problem: string,
  ) {
    super(`export row ${row}, column "${column}": ${problem}`);
  }
}

export const JSONL_CONTENT_TYPE = 'application/x-ndjson; charset=utf-8';
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

export interface ExportKeys {
  readonly incidentsJsonl: string;
  readonly incidentsCsv: string;
  readonly rollupsJsonl: string;
  readonly rollupsCsv: string;
}

/**
 * Object keys of one day's exports. Each format has its own top-level folder, so each Glue
 * table's location holds one format. `prefix` is '' or ends with '/'.
 */
export function exportKeys(prefix: string, day: string): ExportKeys {
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/'))) {
    throw new Error(`export prefix must be empty or end with "/" (and not start with it), got "${prefix}"`);
  }
  if (!isCalendarDay(day)) throw new Error(`export day must be a YYYY-MM-DD date, got "${day}"`);
  return {
    incidentsJsonl: `${prefix}incidents/dt=${day}/incidents.jsonl`,
    incidentsCsv: `${prefix}incidents_csv/dt=${day}/incidents.csv`,
    rollupsJsonl: `${prefix}rollups/dt=${day}/rollups.jsonl`,
    rollupsCsv: `${prefix}rollups_csv/dt=${day}/rollups.csv`,
  };
}

export interface ExportFile {
  readonly key: string;
  readonly body: string;
  readonly contentType: string;
}

/** The four files of one day, each ready for `ExportSink.put`. Throws `ExportRowError` on a bad row. */
export function exportFiles(
  prefix: string,
  day: string,
  data: { readonly incidents: readonly IncidentExportRow[]; readonly rollups: readonly RollupExportRow[] },
): ExportFile[] {
  const keys = exportKeys(prefix, day);
  return [
    {
      key: keys.incidentsJsonl,
      body: toJsonLines(data.incidents, INCIDENT_COLUMNS),
      contentType: JSONL_CONTENT_TYPE,
    },
    { key: keys.incidentsCsv, body: toCsv(data.incidents, INCIDENT_COLUMNS), contentType: CSV_CONTENT_TYPE },
    {
      key: keys.rollupsJsonl,
      body: toJsonLines(data.rollups, ROLLUP_COLUMNS),
      contentType: JSONL_CONTENT_TYPE,
    },
    { key: keys.rollupsCsv, body: toCsv(data.rollups, ROLLUP_COLUMNS), contentType: CSV_CONTENT_TYPE },
  ];
}

/**
 * An incident as an export row. Timestamps are written as ISO-8601 UTC with milliseconds: every
 * format, native alerts included, normalizes its timestamps so at ingest; this re-normalizes only
 * incidents stored before native `occurredAt` was (it kept the sender's offset then). Durations
 * follow core/metrics.ts: MTTD = detected − started, MTTA = acknowledged − detected, MTTR =
 * resolved − started, in seconds, null when an end is missing, negative ones (clock skew) as 0.
 */
export function incidentExportRow(incident: Incident): IncidentExportRow {
  const startedAt = utc(incident.startedAt);
  const detectedAt = utc(incident.detectedAt);
  const acknowledgedAt = incident.acknowledgedAt === undefined ? null : utc(incident.acknowledgedAt);
  const resolvedAt = incident.resolvedAt === undefined ? null : utc(incident.resolvedAt);
  return {
    id: incident.id,
    service: incident.service,
    severity: incident.sev,
    source_severity: incident.severity,
    status: incident.status,
    title: incident.title,
    dedup_key: incident.dedupKey,
    origin: incident.origin,
    started_at: startedAt,
    detected_at: detectedAt,
    acknowledged_at: acknowledgedAt,
    resolved_at: resolvedAt,
    mttd_seconds: secondsBetween(startedAt, detectedAt),
    mtta_seconds: secondsBetween(detectedAt, acknowledgedAt),
    mttr_seconds: secondsBetween(startedAt, resolvedAt),
    alert_count: incident.alertCount,
    escalations: incident.escalations,
    pages_sent: incident.pagesSent,
    excluded: incident.excluded,
    impact_severity: incident.impactSev ?? null,
  };
}

function secondsBetween(from: string, to: string | null): number | null {
  return to === null ? null : Math.max(0, Date.parse(to) - Date.parse(from)) / 1000;
}

/**
 * JSON Lines: one object per row with exactly the declared columns, in column order, each line
 * ended by `\n` (no rows: the empty string). Values are written raw (no formula guard).
 */
export function toJsonLines(
  rows: readonly Record<string, unknown>[],
  columns: readonly ExportColumn[],
): string {
  return rows
    .map((row, index) => {
      const out: Record<string, unknown> = {};
      for (const column of columns) out[column.name] = checkedValue(row, index, column);
      return `${JSON.stringify(out)}\n`;
    })
    .join('');
}

/**
 * RFC 4180 CSV: a header of the column names, CRLF after every record, fields quoted when they hold
 * a comma, quote, CR or LF (quotes doubled). null is an empty unquoted field, the empty string a
 * quoted one (`""`). Numbers in plain decimal (never an exponent), booleans `true`/`false`. String
 * values that a spreadsheet would run as a formula get a leading apostrophe (see `guardFormula`).
 */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly ExportColumn[]): string {
  const header = columns.map((c) => csvField(c.name)).join(',');
  const records = rows.map((row, index) =>
    columns
      .map((column) => {
        const value = checkedValue(row, index, column);
        if (value === null) return '';
        if (typeof value === 'number') return plainNumber(value);
        if (typeof value === 'boolean') return String(value);
        return csvField(column.type === 'string' ? guardFormula(value) : value);
      })
      .join(','),
  );
  return [header, ...records].map((record) => `${record}\r\n`).join('');
}

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * CSV formula-injection guard (OWASP): a value starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading apostrophe, which spreadsheets show as text and do not evaluate. Applied to `string`
 * columns in CSV only; JSON Lines keep the raw value.
 */
export function guardFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * Parses RFC 4180 CSV (CRLF or LF record ends, the last one optional) into records of fields. An
 * empty unquoted field is null, a quoted one ''. No type conversion, no formula-guard undoing.
 */
export function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  if (text === '') return records;
  let record: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) throw new Error(`CSV: unterminated quoted field starting at offset ${i}`);
        value += text.slice(from, quote);
        if (text[quote + 1] !== '"') {
          i = quote + 1;
          break;
        }
        value += '"';
        from = quote + 2;
      }
      record.push(value);
    } else {
      let end = i;
      while (end < text.length && !',\r\n'.includes(text.charAt(end))) {
        if (text[end] === '"') throw new Error(`CSV: quote inside an unquoted field at offset ${end}`);
        end += 1;
      }
      record.push(end === i ? null : text.slice(i, end));
      i = end;
    }
    if (i >= text.length) break;
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text.startsWith('\r\n', i)) i += 2;
    else if (text[i] === '\n') i += 1;
    else throw new Error(`CSV: expected a comma or a line end at offset ${i}`);
    records.push(record);
    record = [];
    if (i >= text.length) return records;
  }
  records.push(record);
  return records;
}

/** The header and every row of a column list, as a Markdown table (docs/EXPORTS.md). */
export function columnsMarkdown(columns: readonly ExportColumn[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| Column | Type | Null | Meaning |',
    '| --- | --- | --- | --- |',
    ...columns.map(
      (c) => `| \`${c.name}\` | ${c.type} | ${c.nullable ? 'yes' : 'no'} | ${cell(c.description)} |`,
    ),
  ].join('\n');
}

type CellValue = string | number | boolean | null;

/** The row's value for a column, checked against its type. */
function checkedValue(row: Record<string, unknown>, index: number, column: ExportColumn): CellValue {
  if (typeof row !== 'object' || row === null)
    throw new ExportRowError(index, column.name, 'the row is not an object');
  const value = row[column.name];
  if (value === undefined) throw new ExportRowError(index, column.name, 'missing (use null for no value)');
  if (value === null) {
    if (column.nullable) return null;
    throw new ExportRowError(index, column.name, `expected ${article(column.type)}, got null`);
  }
  if (!fits(value, column.type)) {
    throw new ExportRowError(
      index,
      column.name,
      `expected ${article(column.type)}${column.nullable ? ' or null' : ''}, got ${describe(value)}`,
    );
  }
  return value as CellValue;
}

const HIVE_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;

function fits(value: unknown, type: ColumnType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'timestamp':
      return typeof value === 'string' && HIVE_TIMESTAMP.test(value);
    case 'bigint':
      return Number.isSafeInteger(value);
    case 'double':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

function article(type: ColumnType): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'timestamp':
      return "a timestamp ('yyyy-MM-dd HH:mm:ss.SSS')";
    case 'bigint':
      return 'an integer (safe range)';
    case 'double':
      return 'a finite number';
    case 'boolean':
      return 'a boolean';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'string') {
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  }
  return Array.isArray(value) ? 'an array' : typeof value;
}

function csvField(text: string): string {
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The shortest round-trip decimal of a finite number, with any exponent expanded. */
export function plainNumber(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', lead = '', fraction = '', exponentText = ''] = match;
  const digits = lead + fraction;
  const exponent = Number(exponentText);
  // JavaScript uses an exponent only from 1e21 up (digits ≤ 17 < exponent + 1) and below 1e-6.
  return exponent >= 0
    ? sign + digits.padEnd(exponent + 1, '0')
    : `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
}

function isCalendarDay(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false;
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(day);
}

function utc(iso: string): string {
  const date = new Date(iso);
  // Only date-times with an offset: without one, Date reads local time and the host's zone leaks in.
  if (!/(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso) || Number.isNaN(date.getTime())) {
    throw new Error(`not an ISO date-time with an offset: "${iso}"`);
  }
  return date.toISOString();
}
