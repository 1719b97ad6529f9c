// Entry point of the http function. (Being written; the CDK stack bundles this file.)
export const handler = async (_event: unknown): Promise<unknown> => ({ statusCode: 503 });
