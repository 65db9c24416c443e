// @ts-check
/** @returns {{ id: string, type: string, system: boolean }} */
exports = function () {
  return { id: context.user.id, type: context.user.type, system: context.runningAsSystem() };
};
