import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '#adapters/aws/table-definition';
import { acknowledgeNagOnGrantee, nagReference } from '../nag.ts';

export interface IncidentStoreProps {
  /**
   * What happens to the table when it leaves the stack. Incidents are the product's history:
   * keep them unless told otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection. Must be off to use `RemovalPolicy.DESTROY`.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The single DynamoDB table: incidents (gsi1: by service, gsi2: all by time), alerts, timelines,
 * integration keys, idempotency records; `expiresAt` is the TTL attribute (stateful).
 */
export class IncidentStore extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: IncidentStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? true;
    if (removalPolicy === RemovalPolicy.DESTROY && deletionProtection) {
      throw new Error('IncidentStore: RemovalPolicy.DESTROY needs deletionProtection: false');
    }

    // Keys and indexes come from the one definition the local runtime creates in dynalite too.
    const d = TABLE_DEFINITION;
    const s = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: s(d.partitionKey),
      sortKey: s(d.sortKey),
      globalSecondaryIndexes: d.globalSecondaryIndexes.map((gsi) => ({
        indexName: gsi.indexName,
        partitionKey: s(gsi.partitionKey),
        sortKey: s(gsi.sortKey),
      })),
      timeToLiveAttribute: d.timeToLiveAttribute,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS-managed KMS key (aws/dynamodb): key use is visible in CloudTrail, at no key cost and
      // with no key policy to keep in step with every function role. A customer-managed key
      // would only add value for cross-account access or crypto-shredding, which Klaxon lacks.
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection,
      removalPolicy,
    });
  }

  /**
   * Lets `grantee` read and write items of the table and query its indexes
   * (`TableV2.grantReadWriteData`: the table and `<table ARN>/index/*`).
   */
  grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grantReadWriteData(grantee);
    acknowledgeNagOnGrantee(
      grantee,
      `AwsSolutions-IAM5[Resource::${nagReference(this, this.table.tableArn)}/index/*]`,
      "Queries on this table's own global secondary indexes (gsi1-gsi3, table-definition.ts): the " +
        'wildcard spans only the indexes of this one table, which accept only the read actions of ' +
        'the same statement (index ARNs take no writes).',
    );
    return grant;
  }
}
