// Types of unit-only-guard.mjs (plain JavaScript: see its header).
export function externalTools(setupScript?: string): string[];
export function unitOnlyMessage(what: string): string;
