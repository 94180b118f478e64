import { BlockList, isIP } from "node:net";
import { GeoplatformConfig } from "./types";

// The stack files ship with documentation-only values (RFC 2606 domains,
// RFC 5737 / RFC 3849 address ranges) marked CHANGE-ME. They are fine for a
// preview; a deployment with them would request certificates for a domain
// nobody owns and open the admin ports to a range nobody has.

const DOCUMENTATION_DOMAINS = ["example.org", "example.com", "example.net"];

const DOCUMENTATION_RANGES = new BlockList();
DOCUMENTATION_RANGES.addSubnet("192.0.2.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("198.51.100.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("203.0.113.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("2001:db8::", 32, "ipv6");

const isDocumentationDomain = (name: string) => DOCUMENTATION_DOMAINS.some((d) => name === d || name.endsWith(`.${d}`));

function isDocumentationCidr(cidr: string): boolean {
    const address = cidr.split("/")[0];
    const family = isIP(address);
    return family !== 0 && DOCUMENTATION_RANGES.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Every value of `config` that is still a documentation placeholder, one message each. */
export function placeholderProblems(config: GeoplatformConfig): string[] {
    const problems: string[] = [];
    const expected = "a value of your own (the stack file's CHANGE-ME placeholder is still there)";
    if (isDocumentationDomain(config.domain)) problems.push(`geoplatform:domain: got "${config.domain}", expected ${expected}`);
    const mailDomain = config.acmeEmail.split("@")[1] ?? "";
    if (isDocumentationDomain(mailDomain)) problems.push(`geoplatform:acmeEmail: got "${config.acmeEmail}", expected ${expected}`);
    config.adminCidrs.forEach((cidr, i) => {
        if (isDocumentationCidr(cidr)) problems.push(`geoplatform:adminCidrs[${i}]: got "${cidr}", expected ${expected}`);
    });
    return problems;
}
