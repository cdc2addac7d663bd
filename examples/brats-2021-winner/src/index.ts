export { FULL_RECIPE, TINY_RECIPE, type WinnerRecipe } from './recipe.js';
export { runWinnerRecipe, type RunRecipeOptions } from './run-recipe.js';
