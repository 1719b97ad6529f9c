// Entry point of the escalate function, invoked by EventBridge Scheduler. (Being written.)
export const handler = async (_event: unknown): Promise<void> => {};
