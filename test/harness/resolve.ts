import * as pulumi from "@pulumi/pulumi";

/** The value of an Output once the mocks have produced it. */
export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolvePromise) => output.apply((value) => resolvePromise(value)));
}
