export { checkExpression } from './check.js';
export type { ExpressionProblem } from './check.js';
export { evaluateExpression, expandValue } from './evaluate.js';
export type { ExpressionEnv } from './evaluate.js';
