/**
 * The last-axis softmax kernels: one contract, implemented by backends, called by layers.
 *
 * The axial attention's softmax runs over the last axis of `[sequences, L, L]` scores. Without
 * these kernels it is composed of tfjs ops (max, sub, exp, sum, div and, backward, mul, sum,
 * sub, mul): about five full passes over the scores each way. A backend that registers both
 * kernels below runs it as one pass each way; `@voxseg/plugin-axial-attention`'s
 * `softmaxLastAxis` uses them whenever the active backend has {@link SOFTMAX_LAST_AXIS_FORWARD}
 * registered (`@voxseg/backend-webgpu` does), and the op composition otherwise.
 */

/**
 * Forward kernel name. Inputs `{ logits }`: float32 of any rank >= 1. Output: `probs`, same
 * shape, `exp(logits - max) / sum(exp(logits - max))` over the last axis (the row maximum is
 * subtracted first, so no `exp` overflows). No attributes.
 */
export const SOFTMAX_LAST_AXIS_FORWARD = 'VoxsegSoftmaxLastAxis';

/**
 * Backward kernel name. Inputs `{ dy, probs }` (`probs`: the forward output), same shape.
 * Output: `dx = probs * (dy - sum(dy * probs))`, the sum over the last axis. No attributes.
 */
export const SOFTMAX_LAST_AXIS_BACKWARD = 'VoxsegSoftmaxLastAxisGrad';
