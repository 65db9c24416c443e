// @ts-check
/**
 * Runs as system; only server (API key) users may call it.
 * @param {{ month: string }} args
 * @returns {{ month: string, generatedBy: string }}
 */
exports = function ({ month }) {
  return { month, generatedBy: context.user.id };
};
