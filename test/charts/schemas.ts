import { createHash } from "crypto";
import { createRequire } from "module";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";
import { REPO_ROOT } from "../harness/stack-config";
import { K8sObject } from "./render";

// Offline schema checks of Kubernetes objects, unknown fields included (the
// API server prunes or, with strict field validation, rejects them; either way
// the setting is lost):
// - core kinds: types and required fields by kubernetes-models' validators
//   (the Kubernetes OpenAPI schema), field names by @kubernetes/client-node's
//   generated models (attributeTypeMap, also generated from that schema);
// - custom resources: the openAPIV3Schema of the CRD that serves them, with
//   structural-schema pruning emulated: an object schema admits only its
//   `properties` unless it has additionalProperties or
//   x-kubernetes-preserve-unknown-fields (Kubernetes docs, "Specifying a
//   structural schema" / field pruning).

const localRequire = createRequire(path.join(REPO_ROOT, "package.json"));

interface Attribute {
    baseName: string;
    type: string;
}
type ModelClass = { attributeTypeMap?: Attribute[] };
let models: Record<string, ModelClass> | undefined;
function clientModels(): Record<string, ModelClass> {
    // An ES module: Node >= 20.19 loads it with require().
    models ??= localRequire("@kubernetes/client-node/dist/gen/models/ObjectSerializer.js") as Record<string, ModelClass>;
    return models;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** client-node's class name for an apiVersion/kind: V1Deployment, or with the group prefix where kinds clash (CoreV1Event, EventsV1Event). */
function modelName(apiVersion: string, kind: string): string | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
    const prefix = group.split(".")[0].split("-").map(cap).join("");
    return [`${prefix}${cap(version)}${kind}`, `${cap(version)}${kind}`].find((n) => clientModels()[n]?.attributeTypeMap);
}

/** Fields that the model of `type` does not have, as paths. */
function unknownFields(value: unknown, type: string, where: string, out: string[]): void {
    if (value === null || value === undefined) return;
    const list = /^Array<(.+)>$/.exec(type);
    if (list) {
        if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, list[1], `${where}[${i}]`, out));
        return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
        if (typeof value === "object") for (const [k, v] of Object.entries(value as object)) unknownFields(v, map[1], `${where}.${k}`, out);
        return;
    }
    const attributes = clientModels()[type]?.attributeTypeMap;
    if (!attributes || typeof value !== "object" || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value as object)) {
        const attribute = attributes.find((a) => a.baseName === k);
        if (!attribute) out.push(`${where ? `${where}.` : ""}${k}: unknown field`);
        else unknownFields(v, attribute.type, `${where ? `${where}.` : ""}${k}`, out);
    }
}

type Model = new (data: unknown) => { validate(): void };
/** kubernetes-models' class for a core apiVersion/kind, if it has one. */
function kubernetesModel(apiVersion: string, kind: string): Model | undefined {
    try {
        return localRequire(`kubernetes-models/${apiVersion.includes("/") ? apiVersion : "v1"}/${kind}`)[kind] as Model;
    } catch {
        return undefined;
    }
}

/** Schema errors of a core object; undefined when the kind is no core kind. */
export function coreErrors(o: K8sObject): string[] | undefined {
    const Model = kubernetesModel(o.apiVersion, o.kind);
    const name = modelName(o.apiVersion, o.kind);
    if (!Model || !name) return undefined;
    const errors: string[] = [];
    try {
        new Model(o).validate();
    } catch (e) {
        errors.push((e as Error).message);
    }
    unknownFields(o, name, "", errors);
    return errors;
}

/** A CRD version schema with structural pruning turned into additionalProperties: false. */
export function prunedSchema(schema: any, root = true): any {
    if (!schema || typeof schema !== "object") return schema;
    const s: any = { ...schema };
    delete s["x-kubernetes-validations"];
    if (root) {
        // apiVersion, kind and metadata are the API server's, checked as ObjectMeta (coreErrors' models), not by the CRD.
        s.properties = {
            ...(s.properties ?? {}),
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        };
    }
    if (s["x-kubernetes-embedded-resource"]) {
        s.properties = {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
            ...(s.properties ?? {}),
        };
    }
    if (s.properties) s.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, prunedSchema(v, false)]));
    if (s.items) s.items = prunedSchema(s.items, false);
    if (s.additionalProperties && typeof s.additionalProperties === "object") s.additionalProperties = prunedSchema(s.additionalProperties, false);
    const isObject = s.type === "object" || (s.properties && !s.type);
    if (isObject && s.additionalProperties === undefined && !s["x-kubernetes-preserve-unknown-fields"]) s.additionalProperties = false;
    if (s["x-kubernetes-int-or-string"] && !s.anyOf && !s.oneOf) s.anyOf = [{ type: "integer" }, { type: "string" }];
    return s;
}

/** CRD patterns are Go RE2 syntax: JavaScript lacks the inline `(?i)` flag; a pattern JavaScript cannot compile is not checked. */
function goRegExp(source: string, flags: string): RegExp {
    const insensitive = source.startsWith("(?i)");
    try {
        return new RegExp(insensitive ? source.slice(4) : source, insensitive ? `${flags}i` : flags);
    } catch {
        return /[\s\S]*/;
    }
}
goRegExp.code = "RegExp";

/** The API server drops null fields of custom resources before validating them (apiextensions.k8s.io/v1 pruning of non-nullable nulls). */
function withoutNulls(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (!value || typeof value !== "object") return value;
    return Object.fromEntries(
        Object.entries(value)
            .filter(([, v]) => v !== null)
            .map(([k, v]) => [k, withoutNulls(v)]),
    );
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
/** Compiled validators by kind and schema digest: the stacks' CRDs are mostly the same, and compiling kube-prometheus-stack's takes seconds. */
const compiled = new Map<string, ValidateFunction>();

/** Validators for the custom resources that a set of CRDs serves, by `group/version/Kind`, compiled on first use. */
export class CrdSchemas {
    private readonly schemas = new Map<string, any>();

    constructor(crds: K8sObject[]) {
        for (const crd of crds) {
            for (const v of crd.spec?.versions ?? []) {
                if (v.served === false) continue;
                const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
                this.schemas.set(key, v.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true });
            }
        }
    }

    has(o: { apiVersion: string; kind: string }): boolean {
        return this.schemas.has(`${o.apiVersion}/${o.kind}`);
    }

    /** Schema errors of a custom resource; undefined when no CRD serves its kind. */
    errors(o: K8sObject): string[] | undefined {
        const key = `${o.apiVersion}/${o.kind}`;
        const schema = this.schemas.get(key);
        if (!schema) return undefined;
        const id = `${key} ${createHash("sha256").update(JSON.stringify(schema)).digest("hex")}`;
        if (!compiled.has(id)) compiled.set(id, ajv.compile(prunedSchema(schema)));
        const validate = compiled.get(id) as ValidateFunction;
        const errors = validate(withoutNulls(o))
            ? []
            : (validate.errors ?? []).map(
                  (e) =>
                      `${e.instancePath || "/"} ${e.message}${e.keyword === "additionalProperties" ? `: ${(e.params as { additionalProperty: string }).additionalProperty}` : ""}`,
              );
        unknownFields(o.metadata, "V1ObjectMeta", "metadata", errors);
        return errors;
    }
}

/** Every schema error of an object: core kinds by the Kubernetes schema, custom resources by their CRD, anything else unknown. */
export function schemaErrors(o: K8sObject, crds: CrdSchemas): string[] {
    if (crds.has(o)) return crds.errors(o) as string[];
    return coreErrors(o) ?? [`no schema for ${o.apiVersion} ${o.kind}: neither a Kubernetes kind nor served by a CRD the platform installs`];
}
