// Entry point of the nightly rollup function, invoked by an EventBridge Scheduler cron schedule. (Being written.)
export const handler = async (_event: unknown): Promise<void> => {};
