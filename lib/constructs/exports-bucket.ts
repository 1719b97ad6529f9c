import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  type ColumnType,
  type ExportColumn,
  type ExportKeys,
  exportKeys,
  INCIDENT_COLUMNS,
  ROLLUP_COLUMNS,
} from '#core/exports';
import { acknowledgeNagOnGrantee, nagReference } from '../nag.ts';

/** The Glue tables, named after the export folders they read. */
export type ExportTableName = 'incidents' | 'incidents_csv' | 'rollups' | 'rollups_csv';

/** Glue column types of the export column types (the same names: Glue's). */
const GLUE_TYPES: Readonly<Record<ColumnType, string>> = {
  string: 'string',
  bigint: 'bigint',
  double: 'double',
  timestamp: 'timestamp',
  boolean: 'boolean',
};

const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
const CSV_SERDE = 'org.apache.hadoop.hive.serde2.OpenCSVSerde';
const TEXT_INPUT_FORMAT = 'org.apache.hadoop.mapred.TextInputFormat';
const TEXT_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
/** Glue limits a column comment to 255 characters. */
const MAX_COMMENT = 255;
/** The first day partition projection offers; days before it (there are none) are not queried. */
const FIRST_DAY = '2020-01-01';

interface Dataset {
  readonly table: ExportTableName;
  readonly format: 'json' | 'csv';
  readonly columns: readonly ExportColumn[];
  readonly key: keyof ExportKeys;
  readonly description: string;
}

const DATASETS: readonly Dataset[] = [
  {
    table: 'incidents',
    format: 'json',
    columns: INCIDENT_COLUMNS,
    key: 'incidentsJsonl',
    description: 'Klaxon incidents, one row per incident and day it belongs to (JSON Lines)',
  },
  {
    table: 'incidents_csv',
    format: 'csv',
    columns: INCIDENT_COLUMNS,
    key: 'incidentsCsv',
    description: 'Klaxon incidents as CSV (every column a string): query `incidents` for typed values',
  },
  {
    table: 'rollups',
    format: 'json',
    columns: ROLLUP_COLUMNS,
    key: 'rollupsJsonl',
    description: 'Klaxon daily rollups per service and severity (JSON Lines)',
  },
  {
    table: 'rollups_csv',
    format: 'csv',
    columns: ROLLUP_COLUMNS,
    key: 'rollupsCsv',
    description: 'Klaxon daily rollups as CSV (every column a string): query `rollups` for typed values',
  },
];

export interface AnalystExportsProps {
  /**
   * Key prefix of every export inside the bucket: '' or ending in '/' (not starting with it).
   * The rollup function gets the same value as `EXPORT_PREFIX`.
   * @default ''
   */
  readonly prefix?: string;
  /**
   * Name of the Glue database (lowercase letters, digits and `_`, at most 255).
   * @default `${stackName}_metrics`, lowercased, every other character replaced by `_`
   */
  readonly databaseName?: string;
  /**
   * How long old versions of an export (a day rolled up again) are kept.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionRetention?: Duration;
  /**
   * How long S3 server access logs of the exports bucket are kept.
   * @default Duration.days(365)
   */
  readonly accessLogRetention?: Duration;
  /**
   * What happens to both buckets when they leave the stack. The exports are the history analysts
   * query; the access logs are its audit trail.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where the nightly rollup writes its analyst exports, and the Glue catalog that makes them
 * queryable in Athena (stateful).
 *
 * - `bucket`: private (Block Public Access, bucket-owner-enforced ownership, no ACLs), TLS only,
 *   versioned (a re-run day overwrites its files; the old version is kept 90 days), retained.
 *   Encryption: SSE-S3. The readers are Athena and analysts' IAM principals; a customer-managed
 *   KMS key would have to be granted to each of them (and to Athena's result handling) and kept in
 *   step, for data that is incident metadata the read API already serves. SSE-S3 encrypts at rest
 *   at no cost, access is governed by IAM alone. The rollup's S3 sink asks for `AES256` explicitly,
 *   so switching the bucket to KMS would need that sink changed too.
 * - `accessLogsBucket`: S3 server access logs of `bucket` (who read or wrote which export), kept a
 *   year. SSE-S3, because S3 log delivery cannot write to an SSE-KMS bucket; delivery is granted by
 *   a bucket policy to `logging.s3.amazonaws.com` for `bucket` only (ACL-based delivery is
 *   incompatible with bucket-owner-enforced ownership). It does not log itself (a log loop).
 * - A Glue database with four external tables — `incidents` and `rollups` (JSON Lines, OpenX JSON
 *   SerDe, typed columns) and `incidents_csv` and `rollups_csv` (CSV) — whose columns are
 *   INCIDENT_COLUMNS / ROLLUP_COLUMNS (lambdas/core/exports.ts), partitioned by `dt` (YYYY-MM-DD)
 *   with partition projection: Athena finds each new day without crawlers or MSCK REPAIR.
 */
export class AnalystExports extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  /** Key prefix of the exports ('' or ending in '/'). */
  readonly prefix: string;
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly tables: Readonly<Record<ExportTableName, glue.CfnTable>>;
  readonly tableNames: Readonly<Record<ExportTableName, string>>;

  constructor(scope: Construct, id: string, props: AnalystExportsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.prefix = props.prefix ?? '';
    const databaseName =
      props.databaseName ?? `${stack.stackName}_metrics`.replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
    const noncurrentRetention = props.noncurrentVersionRetention ?? Duration.days(90);
    const accessLogRetention = props.accessLogRetention ?? Duration.days(365);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // exportKeys validates the prefix; its keys for one day give each table's folder.
    const keys = exportKeys(this.prefix, FIRST_DAY);
    validate(databaseName, noncurrentRetention, accessLogRetention);

    const privateBucket = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy,
    };
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      ...privateBucket,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: accessLogRetention }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucket,
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: noncurrentRetention,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    // Server access logs, delivered under a bucket policy (what aws-cdk-lib does only with the
    // @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy flag; without it, it would switch the log
    // bucket to ACLs, which bucket-owner-enforced ownership forbids).
    const logPrefix = 'exports/';
    this.accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowServerAccessLogDelivery',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogsBucket.arnForObjects(`${logPrefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    // No DependsOn on the policy: it names this bucket's ARN (a cycle). S3 starts delivering once
    // both exist; it does not check the target's permissions when logging is configured.
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogsBucket.bucketName,
      logFilePrefix: logPrefix,
    };

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: databaseName,
        description: `Klaxon (${stack.stackName}) analyst exports: incidents and daily rollups`,
      },
    });
    this.databaseName = databaseName;

    const tables = {} as Record<ExportTableName, glue.CfnTable>;
    for (const dataset of DATASETS) {
      tables[dataset.table] = this.table(dataset, keys[dataset.key]);
    }
    this.tables = tables;
    this.tableNames = Object.fromEntries(DATASETS.map((d) => [d.table, d.table])) as Record<
      ExportTableName,
      string
    >;
  }

  /**
   * Lets `grantee` write (PutObject, nothing else) the exports: objects under the prefix. The writer
   * overwrites each day's files by key and never reads, lists or deletes them.
   */
  grantWriteExports(grantee: iam.IGrantable): iam.Grant {
    const objects = this.bucket.arnForObjects(`${this.prefix}*`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [objects] });
    acknowledgeNagOnGrantee(
      grantee,
      `AwsSolutions-IAM5[Resource::${nagReference(this, objects)}]`,
      'Export keys are made per day and table at runtime (<prefix><table>/dt=<day>/<file>, ' +
        "exportKeys in lambdas/core/exports.ts): the wildcard is the prefix's objects in this one " +
        'bucket, for s3:PutObject alone.',
    );
    return grant;
  }

  /** One external table over the folder holding `key` (`<prefix><folder>/dt=<day>/<file>`). */
  private table(dataset: Dataset, key: string): glue.CfnTable {
    const folder = key.slice(0, key.indexOf(`dt=${FIRST_DAY}/`));
    const location = `s3://${this.bucket.bucketName}/${folder}`;
    const csv = dataset.format === 'csv';
    const columns = dataset.columns.map((column) => ({
      name: column.name,
      // OpenCSVSerde reads every field as a string (and an empty field as '', not null), so the CSV
      // tables declare string columns; the JSON tables carry the types.
      type: csv ? 'string' : GLUE_TYPES[column.type],
      comment: glueComment(column.description),
    }));
    return new glue.CfnTable(this, `Table-${dataset.table}`, {
      catalogId: this.database.catalogId,
      // The reference makes the table wait for the database.
      databaseName: this.database.ref,
      tableInput: {
        name: dataset.table,
        description: dataset.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: dataset.format,
          ...(csv ? { 'skip.header.line.count': '1' } : {}),
          // Partition projection: Athena computes the day partitions instead of listing them.
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${FIRST_DAY},NOW`,
          // `${dt}` is Athena's placeholder, not a template literal.
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'Day (YYYY-MM-DD) in the configured time zone' },
        ],
        storageDescriptor: {
          location,
          inputFormat: TEXT_INPUT_FORMAT,
          outputFormat: TEXT_OUTPUT_FORMAT,
          columns,
          serdeInfo: csv
            ? {
                serializationLibrary: CSV_SERDE,
                // RFC 4180 as written by toCsv. OpenCSVSerde limits: line breaks inside a quoted field
                // split the row, and `\` is its escape character — spot checks only; the JSON tables
                // are exact.
                parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '\\' },
              }
            : { serializationLibrary: JSON_SERDE, parameters: { 'ignore.malformed.json': 'FALSE' } },
        },
      },
    });
  }
}

/**
 * A column description as a Glue column comment: at most 255 characters, cut with "…" (docs/EXPORTS.md
 * keeps the whole text).
 */
export function glueComment(description: string): string {
  const chars = [...description];
  return chars.length <= MAX_COMMENT ? description : `${chars.slice(0, MAX_COMMENT - 1).join('')}…`;
}

function validate(databaseName: string, noncurrentRetention: Duration, accessLogRetention: Duration): void {
  if (!Token.isUnresolved(databaseName) && !/^[a-z0-9_]{1,255}$/.test(databaseName)) {
    throw new Error(
      `AnalystExports: databaseName "${databaseName}" must be 1-255 lowercase letters, digits and "_"`,
    );
  }
  for (const [name, retention] of [
    ['noncurrentVersionRetention', noncurrentRetention],
    ['accessLogRetention', accessLogRetention],
  ] as const) {
    const days = retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`AnalystExports: ${name} must be whole days >= 1, got ${days}`);
    }
  }
}
