import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on `scope` and everything under it, with the reason it is safe.
 * This is aws-cdk-lib's own acknowledgement API, which cdk-nag 3 reads; the stack itself does not
 * import cdk-nag (test/cdk/nag.test.ts runs the AwsSolutions checks).
 *
 * `rule` is `AwsSolutions-<id>` for a rule that reports a resource once, or
 * `AwsSolutions-<id>[<finding>]` for one finding of a rule that reports several (IAM4, IAM5):
 * `Resource::<ARN as nagReference renders it>`, `Action::<action>`, `Policy::<managed policy ARN>`.
 * A finding-level acknowledgement silences that one finding only, never the whole rule.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: rule, reason });
}

/**
 * Acknowledges a finding on the identity a grant went to (the role whose policy holds the
 * statement), next to the grant that causes it. A principal that is no construct (an account, a
 * service) has no policy in the stack to flag.
 */
export function acknowledgeNagOnGrantee(grantee: iam.IGrantable, rule: string, reason: string): void {
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) acknowledgeNag(principal, rule, reason);
}

/**
 * A value (an ARN, usually) as cdk-nag spells it in a finding: resolved, with `Ref` as
 * `<LogicalId>` (`<AWS::Region>` for pseudo parameters), `Fn::GetAtt` as `<LogicalId.Attribute>`
 * and `Fn::Join` joined. Resolved when called, so call it after the referenced resource exists.
 */
export function nagReference(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Ref' in o) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
