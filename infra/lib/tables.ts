import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { deploymentsTable, mappingTable } from './resource-definitions.ts';

export interface TablesProps {
  readonly mappingTableName: string;
  readonly deploymentsTableName: string;
  /**
   * Tables that exist already under these names: kept when a stack of this app was deleted, or
   * (mappings) the original sample's. Imported by name; CloudFormation would refuse to create them.
   */
  readonly existing?: { readonly mappings: boolean; readonly deployments: boolean };
}

const string = dynamodb.AttributeType.STRING;

/**
 * The two tables, keyed exactly as resource-definitions.ts says (local/provision.ts builds the
 * same ones in the emulator). Both keep point-in-time recovery and survive a stack deletion:
 * the mappings are what re-installs a renewed certificate, the records are the audit trail.
 */
export class Tables extends Construct {
  readonly mappings: dynamodb.ITable;
  readonly deployments: dynamodb.ITable;

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
        projectionType: dynamodb.ProjectionType.ALL,
      });
      this.deployments = deployments;
    }
  }
}
