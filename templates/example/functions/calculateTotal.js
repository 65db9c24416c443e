// @ts-check

/**
 * The total of a list of items.
 * Call it with: fn invoke calculateTotal --data '{"items":[{"price":2.5,"quantity":2}]}'
 *
 * @param {{ items: { price: number, quantity?: number }[] }} args
 * @returns {{ total: number }}
 */
exports = function ({ items }) {
  const total = items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);
  return { total: Math.round(total * 100) / 100 };
};
