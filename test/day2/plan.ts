import { RecordedResource, StackRun } from "../harness/run-stack";

// What `pulumi up` would do going from one run of the program to the next,
// worked out the way the engine does: a resource is replaced when an input
// its provider marks ForceNew changed (unless ignoreChanges covers it) or a
// replaceOnChanges input changed; a replaced resource gets a new id, so any
// resource whose ForceNew input holds that id is replaced as well.

/**
 * ForceNew inputs (Pulumi names) of the resource types whose replacement
 * matters here, from the providers' source:
 * - terraform-provider-aws (bridged by @pulumi/aws 7.x): internal/service/ec2/ec2_instance.go,
 *   ebs_volume.go, ebs_volume_attachment.go, ec2_eip_association.go;
 * - terraform-provider-openstack v1.54.1 (bridged by @pulumi/openstack 3.15.2):
 *   resource_openstack_compute_instance_v2.go, resource_openstack_networking_port_v2.go,
 *   resource_openstack_blockstorage_volume_v3.go, resource_openstack_compute_volume_attach_v2.go.
 * `userData` of an aws_instance is ForceNew only with userDataReplaceOnChange (handled below).
 */
export const FORCE_NEW: Record<string, string[]> = {
    "aws:ec2/instance:Instance": [
        "ami",
        "associatePublicIpAddress",
        "availabilityZone",
        "keyName",
        "subnetId",
        "privateIp",
        "instanceMarketOptions",
        "rootBlockDevice.encrypted",
        "rootBlockDevice.kmsKeyId",
    ],
    "aws:ebs/volume:Volume": ["availabilityZone", "encrypted", "kmsKeyId", "snapshotId", "outpostArn", "multiAttachEnabled"],
    "aws:ec2/volumeAttachment:VolumeAttachment": ["deviceName", "instanceId", "volumeId"],
    // ec2_eip_association.go: every argument.
    "aws:ec2/eipAssociation:EipAssociation": ["allocationId", "allowReassociation", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp"],
    "openstack:compute/instance:Instance": ["region", "userData", "availabilityZone", "networks", "configDrive", "keyPair", "blockDevices"],
    "openstack:networking/port:Port": ["region", "networkId", "tenantId", "valueSpecs"],
    "openstack:blockstorage/volume:Volume": ["region", "availabilityZone", "snapshotId", "sourceVolId", "imageId", "volumeType"],
    "openstack:compute/volumeAttach:VolumeAttach": ["region", "instanceId", "volumeId", "multiattach"],
    // pulumi/pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go: `triggers` is replaceOnChanges, nothing else.
    "command:remote:Command": ["triggers"],
};

export interface Plan {
    create: string[];
    delete: string[];
    replace: string[];
    update: string[];
    /** URNs of the replaced resources (names alone are shared by a volume and its attachment). */
    replacedUrns: string[];
    /** Why each replaced resource is replaced: the inputs, or the replaced resource it holds the id of. */
    reasons: Record<string, string[]>;
}

const byUrn = (run: StackRun) => new Map(run.resources.filter((r) => r.custom).map((r) => [r.urn, r]));

/** Dotted paths (`a.b`, `a[0].b`) of every leaf that differs between two input trees. */
function changedPaths(a: unknown, b: unknown, path = ""): string[] {
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    const isObj = (v: unknown) => v !== null && typeof v === "object";
    if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return [path];
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].flatMap((k) => changedPaths((a as any)[k], (b as any)[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
}

/** `blockDevices[0].uuid` is under `blockDevices` and under `blockDevices[0]`. */
const covers = (prefix: string, path: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
/** A change at or under a ForceNew input, or of a whole object holding one. */
const underForceNew = (type: string, path: string) => (FORCE_NEW[type] ?? []).some((f) => covers(f, path) || covers(path, f));

/** Changed inputs the engine diffs: ignoreChanges keeps the state's value in the goal (processIgnoreChanges). */
function diffedChanges(before: RecordedResource, after: RecordedResource): string[] {
    const ignored = after.options.ignoreChanges;
    return changedPaths(before.inputs, after.inputs).filter((p) => !ignored.some((i) => covers(i, p)));
}

function forceNewChanges(before: RecordedResource, after: RecordedResource): string[] {
    const changed = diffedChanges(before, after);
    const replaceOn = after.options.replaceOnChanges;
    return changed.filter(
        (p) =>
            underForceNew(after.type, p) ||
            replaceOn.some((r) => covers(r, p)) ||
            (after.type === "aws:ec2/instance:Instance" && covers("userData", p) && after.inputs.userDataReplaceOnChange === true),
    );
}

/**
 * Whether a ForceNew input of `r` holds the id of `dep`. When `dep` is deleted
 * before it is replaced, the engine decides which dependents go first by the
 * provider's diff with those inputs unknown, without ignoreChanges
 * (calculateDependentReplacements in pulumi/pulumi pkg/resource/deploy/step_generator.go).
 */
function holdsIdOf(r: RecordedResource, dep: RecordedResource): boolean {
    const ignored = dep.options.deleteBeforeReplace ? [] : r.options.ignoreChanges;
    const forceNew = [...(FORCE_NEW[r.type] ?? []), ...r.options.replaceOnChanges].filter((f) => !ignored.some((i) => covers(i, f)));
    const id = `${dep.name}-id`;
    return forceNew.some((f) => JSON.stringify(f.split(".").reduce<any>((v, k) => v?.[k], r.inputs) ?? null).includes(id));
}

/** `forced`: URNs replaced on purpose (`pulumi up --replace <urn>`). */
export function planChanges(before: StackRun, after: StackRun, forced: string[] = []): Plan {
    const old = byUrn(before);
    const now = byUrn(after);
    const plan: Plan = { create: [], delete: [], replace: [], update: [], replacedUrns: [], reasons: {} };
    for (const [urn, r] of now) if (!old.has(urn)) plan.create.push(r.name);
    for (const [urn, r] of old) if (!now.has(urn)) plan.delete.push(r.name);
    const replaced = new Map<string, RecordedResource>();
    for (const [urn, r] of now) {
        const prev = old.get(urn);
        if (!prev) continue;
        const reasons = forced.includes(urn) ? ["--replace"] : forceNewChanges(prev, r);
        if (reasons.length > 0) {
            replaced.set(urn, r);
            plan.reasons[r.name] = reasons;
        } else if (diffedChanges(prev, r).length > 0) plan.update.push(r.name);
    }
    // A replacement's new id reaches every resource that holds it in a ForceNew input.
    let grew = true;
    while (grew) {
        grew = false;
        for (const [urn, r] of now) {
            if (replaced.has(urn) || !old.has(urn)) continue;
            const cause = [...replaced.values()].find((dep) => holdsIdOf(r, dep));
            if (cause) {
                replaced.set(urn, r);
                plan.reasons[r.name] = [`id of ${cause.name}`];
                grew = true;
            }
        }
    }
    plan.replace = [...replaced.values()].map((r) => r.name);
    plan.replacedUrns = [...replaced.keys()];
    plan.update = plan.update.filter((n) => !plan.replace.includes(n));
    for (const list of [plan.create, plan.delete, plan.replace, plan.update]) list.sort();
    return plan;
}

/**
 * What the engine deletes, in order, before it creates the replacement of `urn`: nothing when it replaces create-first
 * (the old resource is deleted at the end of the run); with deleteBeforeReplace, the replaced resources that depend on
 * it, each before what it depends on, then the resource itself (pulumi/pulumi pkg/resource/deploy/step_generator.go,
 * continueStepsFromDiff and calculateDependentReplacements).
 */
export function deletedBeforeReplacement(run: StackRun, plan: Plan, urn: string): string[] {
    const resources = run.resources.filter((r) => r.custom);
    const target = resources.find((r) => r.urn === urn) as RecordedResource;
    if (!target.options.deleteBeforeReplace) return [];
    const dependents = new Set<string>();
    let grew = true;
    while (grew) {
        grew = false;
        for (const r of resources) {
            if (dependents.has(r.urn) || !plan.replacedUrns.includes(r.urn)) continue;
            if (r.dependencies.some((d) => d === urn || dependents.has(d))) {
                dependents.add(r.urn);
                grew = true;
            }
        }
    }
    // Dependents first: a resource is deleted only once nothing left depends on it.
    const order: RecordedResource[] = [];
    const left = resources.filter((r) => dependents.has(r.urn));
    while (left.length > 0) {
        const next = left.findIndex((r) => !left.some((o) => o !== r && o.dependencies.includes(r.urn)));
        order.push(...left.splice(next, 1));
    }
    return [...order.map((r) => r.name), target.name];
}

/**
 * The order in which the engine deletes the resources that left the program: in steps, each step's deletes at once, a
 * resource only once everything left that depends on it (or is its child) is deleted, by the dependencies recorded in
 * the state of `before` (pulumi/pulumi pkg/resource/deploy/step_generator.go, ScheduleDeletes).
 */
export function deletionSteps(before: StackRun, after: StackRun): string[][] {
    const now = byUrn(after);
    const left = before.resources.filter((r) => r.custom && !now.has(r.urn));
    const steps: string[][] = [];
    while (left.length > 0) {
        const free = left.filter((r) => !left.some((o) => o.dependencies.includes(r.urn) || o.parent === r.urn));
        if (free.length === 0) throw new Error(`a dependency cycle among ${left.map((r) => r.name).join(", ")}`);
        steps.push(free.map((r) => r.name).sort());
        for (const r of free) left.splice(left.indexOf(r), 1);
    }
    return steps;
}
