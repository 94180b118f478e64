import * as fs from "fs";

// What a program sent the engine stand-in, in arrival order, for bench/sdk-floor to send again: every registration
// (type, name, parent, dependencies, provider, version and the inputs as serialised on the wire), every component's
// and the stack's registered outputs, every invoke. The floor program replays it without the program's logic.

export interface RecordedRegistration {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    dependencies: string[];
    /** `<provider urn>::<id>`, or "" for the default provider. */
    provider: string;
    version: string;
    /** The request's `object`, the inputs in the SDK's wire form (secrets, resource references, unknowns encoded). */
    inputs: Record<string, unknown>;
}

export interface Recording {
    registrations: RecordedRegistration[];
    outputs: { urn: string; outputs: Record<string, unknown> }[];
    invokes: { tok: string; args: Record<string, unknown>; version: string }[];
}

type Struct = { toJavaScript(): Record<string, unknown> } | undefined;

export class Recorder {
    private readonly recording: Recording = { registrations: [], outputs: [], invokes: [] };

    resource(request: any, urn: string): void {
        this.recording.registrations.push({
            urn,
            type: request.getType(),
            name: request.getName(),
            custom: request.getCustom(),
            parent: request.getParent(),
            dependencies: request.getDependenciesList(),
            provider: request.getProvider(),
            version: request.getVersion(),
            inputs: (request.getObject() as Struct)?.toJavaScript() ?? {},
        });
    }

    outputs(request: any): void {
        this.recording.outputs.push({ urn: request.getUrn(), outputs: (request.getOutputs() as Struct)?.toJavaScript() ?? {} });
    }

    invoke(request: any): void {
        this.recording.invokes.push({ tok: request.getTok(), args: (request.getArgs() as Struct)?.toJavaScript() ?? {}, version: request.getVersion() });
    }

    write(file: string): void {
        fs.writeFileSync(file, JSON.stringify(this.recording));
    }
}
