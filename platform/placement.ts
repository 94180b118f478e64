import { NODE_GROUP_LABEL } from "../config/types";

// Where pods go: shared services on `system`; node-level agents (storage,
// metrics) also on the tainted `processing` nodes, whose pods need them.

export const onGroup = (group: string) => ({ [NODE_GROUP_LABEL]: group });
export const SYSTEM = onGroup("system");

/** Tolerates the processing group's taint, for per-node agents that must run there too. */
export const PROCESSING_TOLERATION = { key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" };
