import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Wraps a DynamoDB client with the marshalling options Klaxon's items need. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Created once per Lambda execution environment, at module scope, and reused by every invocation. */
export const defaultDocumentClient = documentClient(new DynamoDBClient({}));
