import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

/** One IAM policy statement as it appears in a synthesized template. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resources = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Whether an IAM action pattern (`iam:Pass*`, `*`) covers `action`. */
export const covers = (pattern: string, action: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

/**
 * Readers of a synthesized stack's template. `get` is called on each use: the tests build the
 * stack in beforeAll, after the readers are defined.
 */
export function templateReader(get: () => { stack: Stack; template: Template }) {
  const ref = (value: string): unknown => get().stack.resolve(value);
  return {
    ref,
    /** The template resource of a construct (its default CloudFormation child). */
    resourceOf(construct: IConstruct): { Properties: Record<string, unknown> } {
      const { stack, template } = get();
      const id = stack.getLogicalId(construct.node.defaultChild as CfnElement);
      return template.toJSON().Resources[id];
    },
    /** The statements of the IAM policies attached to a role. */
    policyStatementsOf(roleName: string): Statement[] {
      return Object.values(
        get().template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(roleName)] } }),
      ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    },
  };
}
