// MinIO refuses a whole policy (canned or STS session) whose statement puts a condition key on an action that does not
// support it (minio/pkg v3.0.23 policy/statement.go isValid, called from ParseConfig): the chart's make-policy step
// then loops and STS answers 400. The action-specific keys below are those of policy/action.go actionConditionKeyMap
// for the S3 actions this project conditions; every action also takes the common keys (policy/condition/keyname.go
// CommonKeys: aws:*, jwt:*, ldap:*, ...), which no statement here uses.
const ACTION_CONDITION_KEYS: Record<string, string[]> = {
    "s3:ListBucket": ["s3:prefix", "s3:delimiter", "s3:max-keys"],
    "s3:ListBucketVersions": ["s3:prefix", "s3:delimiter", "s3:max-keys"],
};

/** Statements in IAM JSON form (`Action`, `Condition`), as MinIO parses them. */
export function minioPolicyErrors(document: { Statement: { Action: string[]; Condition?: Record<string, Record<string, unknown>> }[] }): string[] {
    return document.Statement.flatMap((st) => {
        const keys = Object.values(st.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
        return st.Action.flatMap((action) =>
            keys.filter((key) => !ACTION_CONDITION_KEYS[action]?.includes(key)).map((key) => `unsupported condition key '${key}' used for action '${action}'`),
        );
    });
}
