/** BraTS label colours (as the CLI's PNG overlays): 1 necrosis red, 2 edema green, 4 enhancing yellow. */
export const LABEL_COLOURMAP = {
  R: [0, 230, 40, 0, 250],
  G: [0, 40, 200, 0, 220],
  B: [0, 40, 60, 0, 30],
  A: [0, 255, 255, 0, 255],
  I: [0, 1, 2, 3, 4],
  labels: ['background', 'NCR (1)', 'ED (2)', '', 'ET (4)'],
};
