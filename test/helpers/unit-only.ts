import { unitOnlyMessage } from './unit-only-guard.mjs';

/**
 * True in `npm run test:unit` (EIC_BUILD_UNIT_ONLY=1): only tests without `[integration]` in their title
 * run, so a hook that starts something only the integration tests of its file use can skip it.
 */
export const UNIT_ONLY_RUN = process.env.EIC_BUILD_UNIT_ONLY === '1';

/** For helpers that reach Docker, gpg, a registry or Spack: in a unit-only run, throw the tagging rule. */
export function requireIntegration(what: string): void {
  if (UNIT_ONLY_RUN) throw new Error(unitOnlyMessage(what));
}
