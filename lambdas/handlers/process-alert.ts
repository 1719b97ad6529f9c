// Entry point of the process-alert function. (Being written; the CDK stack bundles this file.)
export const handler = async (_event: unknown): Promise<void> => {};
