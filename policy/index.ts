import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Enforcement per stack lives in config/<stack>.json (`--policy-pack-config`);
// the levels in the policies are the defaults.
new PolicyPack("geoplatform", { policies });
