import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "./types";
import { RawConfig, validateConfig } from "./validate";

const PREFIX = "geoplatform:";

/** Pulumi hands every config value over as a string; structured values are JSON. */
function parseValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

/** Reads every `geoplatform:*` key of the current stack, so unknown (misspelt) keys are reported too. */
export function readRawConfig(): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(PREFIX)) raw[key.slice(PREFIX.length)] = parseValue(value);
    }
    return raw;
}

export function loadConfig(): GeoplatformConfig {
    return validateConfig(readRawConfig(), pulumi.getStack());
}
