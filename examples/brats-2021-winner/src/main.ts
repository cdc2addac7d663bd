import { FULL_RECIPE, TINY_RECIPE } from './recipe.js';
import { runWinnerRecipe } from './run-recipe.js';

// node dist/main.js <data> <test> <out> [full|tiny] [backend]
const [data, test, out, size = 'tiny', backend = 'auto'] = process.argv.slice(2);
if (!data || !test || !out) {
  console.error('usage: node dist/main.js <trainDataDir> <testDataDir> <outDir> [full|tiny] [backend]');
  process.exit(2);
}
await runWinnerRecipe({ data, test, out, recipe: size === 'full' ? FULL_RECIPE : TINY_RECIPE, backend });
