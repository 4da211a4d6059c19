import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { deploymentsTable, mappingTable, serversTable } from './resource-definitions.ts';

export interface TablesProps {
  readonly mappingTableName: string;
  readonly deploymentsTableName: string;
  readonly serversTableName: string;
  /**
   * Tables that exist already under these names: kept when a stack of this app was deleted, or
   * (mappings) the original sample's. Imported by name; CloudFormation would refuse to create them.
   */
  readonly existing?: {
    readonly mappings: boolean;
    readonly deployments: boolean;
    readonly servers?: boolean;
  };
  /**
   * Keep the deployments table's former index (`CertificateArnIndex`, every attribute) beside
   * its keys-only one: the first of the two deployments that upgrade a stack created before.
   */
  readonly legacyDeploymentsIndex?: boolean;
}

const string = dynamodb.AttributeType.STRING;

/**
 * The three tables, keyed exactly as resource-definitions.ts says (local/provision.ts builds the
 * same ones in the emulator). All keep point-in-time recovery and survive a stack deletion:
 * the mappings are what re-installs a renewed certificate, the records are the audit trail, the
 * per-server items are what the reconciliation sweep converges the fleet from.
 */
export class Tables extends Construct {
  readonly mappings: dynamodb.ITable;
  readonly deployments: dynamodb.ITable;
  readonly servers: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    const existing = (id: string, tableName: string) =>
      dynamodb.Table.fromTableAttributes(this, id, { tableName, grantIndexPermissions: true });

    if (props.existing?.mappings === true) {
      this.mappings = existing('Mappings', props.mappingTableName);
    } else {
      const mappings = new dynamodb.Table(this, 'Mappings', {
        ...common,
        tableName: props.mappingTableName,
        partitionKey: { name: mappingTable.partitionKey, type: string },
        sortKey: { name: mappingTable.sortKey, type: string },
      });
      mappings.addGlobalSecondaryIndex({
        indexName: mappingTable.certificateIndex.name,
        partitionKey: { name: mappingTable.certificateIndex.partitionKey, type: string },
        sortKey: { name: mappingTable.certificateIndex.sortKey, type: string },
        projectionType: dynamodb.ProjectionType.ALL,
      });
      this.mappings = mappings;
    }

    if (props.existing?.deployments === true) {
      this.deployments = existing('Deployments', props.deploymentsTableName);
    } else {
      const deployments = new dynamodb.Table(this, 'Deployments', {
        ...common,
        tableName: props.deploymentsTableName,
        partitionKey: { name: deploymentsTable.partitionKey, type: string },
        timeToLiveAttribute: deploymentsTable.ttlAttribute,
      });
      deployments.addGlobalSecondaryIndex({
        indexName: deploymentsTable.certificateIndex.name,
        partitionKey: { name: deploymentsTable.certificateIndex.partitionKey, type: string },
        sortKey: { name: deploymentsTable.certificateIndex.sortKey, type: string },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
      if (props.legacyDeploymentsIndex === true) {
        deployments.addGlobalSecondaryIndex({
          indexName: deploymentsTable.legacyCertificateIndex.name,
          partitionKey: { name: deploymentsTable.certificateIndex.partitionKey, type: string },
          sortKey: { name: deploymentsTable.certificateIndex.sortKey, type: string },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      this.deployments = deployments;
    }

    this.servers =
      props.existing?.servers === true
        ? existing('Servers', props.serversTableName)
        : new dynamodb.Table(this, 'Servers', {
            ...common,
            tableName: props.serversTableName,
            partitionKey: { name: serversTable.partitionKey, type: string },
            sortKey: { name: serversTable.sortKey, type: string },
            timeToLiveAttribute: serversTable.ttlAttribute,
          });
  }
}
