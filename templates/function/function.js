// @ts-check

/**
 * {{name}}
 *
 * @param {Record<string, unknown>} args the named parameters of the call
 * @returns {Promise<unknown>}
 */
exports = async function (args) {
  return { ok: true };
};
