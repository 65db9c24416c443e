// @ts-check
/**
 * Private: only other functions call it.
 * @param {{ subtotal: number, coupon: string }} args
 * @returns {number}
 */
exports = function ({ subtotal, coupon }) {
  return coupon === 'TENOFF' ? Math.min(10, subtotal) : 0;
};
