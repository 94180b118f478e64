export { AlertReceivers, alertmanagerConfig, RECEIVER_SECRET } from "./alerting";
export { Dashboards } from "./dashboards";
export { LOKI_BUCKET, LOKI_S3_SECRET, LOKI_S3_USER, LOKI_URL, Logs } from "./logs";
export { Monitors } from "./monitors";
export { AlertRules, CUSTOM_RESOURCE_RBAC, CUSTOM_RESOURCE_STATE } from "./rules";
