import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag.ts';

export interface AckSigningSecretProps {
  /**
   * What happens to the secret when it leaves the stack. Links already sent in pages are signed
   * with it: losing it breaks every acknowledge link in flight.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The key that signs acknowledge/resolve links in pages: 64 generated letters and digits, held in
 * Secrets Manager (encrypted with its AWS-managed key) and read by the functions at runtime
 * (stateful).
 */
export class AckSigningSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: AckSigningSecretProps = {}) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Klaxon: signs acknowledge and resolve links in pages',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this.secret,
      'AwsSolutions-SMG4',
      'A signing key, not a credential for another system: the functions verify acknowledge links ' +
        '(valid 48 h) against the one current value and keep it for the life of a warm instance. ' +
        'Scheduled rotation, without dual-key verification, would turn every link in flight into ' +
        '"forged" and leave warm instances signing with the old key. Rotate by hand if it may have ' +
        'leaked: put-secret-value, then change any function setting so Lambda replaces warm instances.',
    );
  }
}
