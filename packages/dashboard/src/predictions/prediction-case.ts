// Types only (no node: imports): the viewer page imports them too.

/** A case of a prediction set, with its metrics when the evaluation has it. */
export interface PredictionCase {
  id: string;
  /** Region -> { dice, hd95 } from the evaluation JSON. */
  metrics?: Record<string, { dice: number | null; hd95: number | null }>;
  /** Mean Dice over the regions (the sort key: worst first). */
  meanDice?: number;
  /** Which of the modalities and the ground truth exist. */
  files: string[];
}

