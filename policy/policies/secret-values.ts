// Heuristics for secrets written into places that end up readable: pod specs
// (the API, `kubectl describe`), command lines (process lists, logs), cloud-init
// user data (the instance metadata service) and Command inputs (the state file).

/**
 * A name that holds a secret value: ..._PASSWORD, TOKEN, CLIENT_SECRET, API_KEY, PRIVATE_KEY...
 * Anchored at the end, so references (TOKEN_FILE, SECRET_NAME, ACCESS_KEY_ID) do not match.
 */
const SECRET_NAME = /(^|[-_.])(pass(word|wd)?|pwd|token|secret|credentials?|api[-_]?key|key)$/i;

/** Values that are not secrets themselves: empty, booleans, numbers, paths, expansions ($VAR, $(VAR), ${1}, $(cat f)), placeholders. */
function isReference(value: string): boolean {
    return value.trim() === "" || /^(true|false|yes|no|\d{1,6})$/i.test(value) || value.startsWith("/") || value.startsWith("$") || /^<[^>]+>$/.test(value);
}

/** Token formats that are secrets whatever they are called. */
const KNOWN_TOKENS: [string, RegExp][] = [
    ["a private key", /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/],
    ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
    ["a GitHub token", /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/],
    ["a GitLab token", /\bglpat-[A-Za-z0-9_-]{20,}/],
    ["a Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
    ["a K3s join token", /\bK10[0-9a-f]{64}::[a-z]+:[A-Za-z0-9]+/],
    ["a Vault token", /\bhv[sb]\.[A-Za-z0-9_-]{24,}/],
    ["a bearer token", /\bBearer\s+(?!\$)[A-Za-z0-9._~+\/=-]{16,}/],
    ["a JSON Web Token", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

/** What kind of known token `text` contains, if any. */
export function knownToken(text: string): string | undefined {
    return KNOWN_TOKENS.find(([, re]) => re.test(text))?.[0];
}

export function isSecretName(name: string): boolean {
    return SECRET_NAME.test(name);
}

/** Why a name=value pair looks like a literal secret, or undefined. */
export function secretAssignment(name: string, value: string): string | undefined {
    const token = knownToken(value);
    if (token) return `${token} in ${name}`;
    if (isSecretName(name) && !isReference(value)) return `a literal value in ${name}`;
    return undefined;
}

/** `--password=x`, `--token x`, `-p x` style options, and NAME=value assignments, with a literal secret. */
const OPTION = /^--?([A-Za-z][-A-Za-z0-9_.]*)(=(.*))?$/;
const ASSIGNMENT = /(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|)]+)/g;

/** Options among `words` that carry a literal secret: `--password=x`, `--token x`. */
function optionSecrets(words: string[]): string[] {
    const found: string[] = [];
    words.forEach((word, i) => {
        const m = OPTION.exec(word);
        if (!m || !isSecretName(m[1])) return;
        const value = m[3] ?? words[i + 1];
        if (value !== undefined && !value.startsWith("-") && !isReference(value)) found.push(`a literal value for ${word.split("=")[0]}`);
    });
    return found;
}

/** Literal secrets in shell text: NAME=value assignments, options and known tokens. */
export function secretsInScript(script: string): string[] {
    const found: string[] = [];
    for (const m of script.matchAll(ASSIGNMENT)) {
        if (isSecretName(m[1]) && !isReference(m[2].replace(/^["']|["']$/g, ""))) found.push(`a literal value assigned to ${m[1]}`);
    }
    found.push(...optionSecrets(script.split(/\s+/).map((w) => w.replace(/^["']|["']$/g, ""))));
    const token = knownToken(script);
    if (token) found.push(token);
    return [...new Set(found)];
}

/** Literal secrets in an argument vector (container command/args): options, and scripts passed as one argument. */
export function secretsInArgs(args: string[]): string[] {
    return [...new Set([...optionSecrets(args), ...args.filter((a) => !OPTION.test(a)).flatMap(secretsInScript)])];
}
