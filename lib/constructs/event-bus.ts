import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

export interface KlaxonEventBusProps {
  /**
   * Name of the bus. Producers put native alerts on it by name, so it is stable.
   * @default `${stackName}-bus`
   */
  readonly eventBusName?: string;
  /**
   * How long the archive keeps every event on the bus, for replays after a bad deploy.
   * `Duration.days(0)` turns the archive off.
   * @default Duration.days(7)
   */
  readonly archiveRetention?: Duration;
}

/** Klaxon's custom event bus: alerts in, incident lifecycle events out (stateful). */
export class KlaxonEventBus extends Construct {
  readonly eventBus: events.EventBus;
  readonly archive: events.Archive | undefined = undefined;

  constructor(scope: Construct, id: string, props: KlaxonEventBusProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const eventBusName = props.eventBusName ?? `${stack.stackName}-bus`;
    if (!Token.isUnresolved(eventBusName) && !/^[\w.-]{1,256}$/.test(eventBusName)) {
      throw new Error(`KlaxonEventBus: eventBusName "${eventBusName}" must be 1-256 of [A-Za-z0-9_.-]`);
    }
    if (eventBusName === 'default') throw new Error('KlaxonEventBus: eventBusName must not be "default"');
    const retentionDays = (props.archiveRetention ?? Duration.days(7)).toDays();
    if (!Number.isInteger(retentionDays) || retentionDays < 0) {
      throw new Error(`KlaxonEventBus: archiveRetention must be whole days >= 0, got ${retentionDays}`);
    }

    this.eventBus = new events.EventBus(this, 'Bus', {
      eventBusName,
      description: 'Klaxon alerts and incident lifecycle events',
    });
    if (retentionDays > 0) {
      this.archive = this.eventBus.archive('Archive', {
        description: 'Every event on the Klaxon bus, for replay',
        eventPattern: { account: [stack.account] },
        retention: Duration.days(retentionDays),
      });
      // Archive synthesizes KmsKeyIdentifier: "" without a key, which some regions reject on
      // deploy (aws/aws-cdk#37847); absent means the AWS-owned key.
      (this.archive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');
    }
  }
}
