import { geoplatform } from "./program";

// Pulumi awaits an exported async function and turns its result into stack outputs.
export = geoplatform;
