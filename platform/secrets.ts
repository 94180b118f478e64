import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A random password, explicitly secret so that everything derived from it
 * (Secret data, triggers, htpasswd lines) stays encrypted in the state.
 */
export function randomSecret(name: string, parent: pulumi.Resource, length = 32): { value: pulumi.Output<string>; bcrypt: pulumi.Output<string> } {
    const password = new random.RandomPassword(name, { length, special: false }, { parent });
    return { value: pulumi.secret(password.result), bcrypt: pulumi.secret(password.bcryptHash) };
}

/** A Kubernetes Secret whose data is a Pulumi secret. */
export function k8sSecret(
    name: string,
    args: {
        namespace: pulumi.Input<string>;
        data: Record<string, pulumi.Input<string>>;
        type?: string;
        /** Kubernetes name, when it differs from the resource name. */ name?: string;
    },
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(
        name,
        {
            metadata: { name: args.name ?? name, namespace: args.namespace },
            type: args.type ?? "Opaque",
            stringData: pulumi.secret(pulumi.output(args.data)) as pulumi.Output<Record<string, string>>,
        },
        opts,
    );
}

/** `env` entry reading one key of a Secret, so the value never passes through Pulumi. */
export function secretEnv(name: string, secretName: string, key: string) {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}
