import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { deploymentsTable, mappingTable } from './resource-definitions.ts';

export interface TablesProps {
  readonly mappingTableName: string;
  readonly deploymentsTableName: string;
}

const string = dynamodb.AttributeType.STRING;

/**
 * The two tables, keyed exactly as resource-definitions.ts says (local/provision.ts builds the
 * same ones in the emulator). Both keep point-in-time recovery and survive a stack deletion:
 * the mappings are what re-installs a renewed certificate, the records are the audit trail.
 */
export class Tables extends Construct {
  readonly mappings: dynamodb.Table;
  readonly deployments: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    this.mappings = new dynamodb.Table(this, 'Mappings', {
      ...common,
      tableName: props.mappingTableName,
      partitionKey: { name: mappingTable.partitionKey, type: string },
      sortKey: { name: mappingTable.sortKey, type: string },
    });
    this.mappings.addGlobalSecondaryIndex({
      indexName: mappingTable.certificateIndex.name,
      partitionKey: { name: mappingTable.certificateIndex.partitionKey, type: string },
      sortKey: { name: mappingTable.certificateIndex.sortKey, type: string },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.deployments = new dynamodb.Table(this, 'Deployments', {
      ...common,
      tableName: props.deploymentsTableName,
      partitionKey: { name: deploymentsTable.partitionKey, type: string },
      timeToLiveAttribute: deploymentsTable.ttlAttribute,
    });
    this.deployments.addGlobalSecondaryIndex({
      indexName: deploymentsTable.certificateIndex.name,
      partitionKey: { name: deploymentsTable.certificateIndex.partitionKey, type: string },
      sortKey: { name: deploymentsTable.certificateIndex.sortKey, type: string },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
