// @ts-check
/**
 * The total of a cart, with the discount of a coupon applied.
 * @param {{ items: { price: number, quantity?: number }[], coupon?: string }} args
 * @returns {Promise<{ total: number, discount: number }>}
 */
exports = async function ({ items, coupon }) {
  const subtotal = items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);
  const discount = coupon ? await context.functions.execute('applyDiscount', { subtotal, coupon }) : 0;
  return { total: Math.round((subtotal - discount) * 100) / 100, discount };
};
