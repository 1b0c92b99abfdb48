/**
 * SSD anchor centres as MediaPipe's SsdAnchorsCalculator lays them out. BlazeFace regresses every box and
 * keypoint relative to the centre of its anchor; with `fixed_anchor_size` the anchor's own width and
 * height are 1, so only the centres matter here.
 */

export interface SsdAnchorOptions {
  inputSize: number;
  /** One stride per layer; consecutive layers with the same stride share one feature map. */
  strides: readonly number[];
  aspectRatios: readonly number[];
  /** MediaPipe adds one anchor per cell at the interpolated scale when this is > 0. */
  interpolatedScaleAspectRatio: number;
  anchorOffset: number;
}

/**
 * MediaPipe's options for the "back camera" 256×256 BlazeFace (face_detection_back): four layers on two
 * feature maps, so 16×16 cells × 2 anchors + 8×8 cells × 6 anchors = 896 anchors, in the order the model's
 * two output heads list them (stride 16 first).
 */
export const BLAZEFACE_BACK_ANCHORS: SsdAnchorOptions = {
  inputSize: 256,
  strides: [16, 32, 32, 32],
  aspectRatios: [1],
  interpolatedScaleAspectRatio: 1,
  anchorOffset: 0.5,
};

/** Anchor centres in input pixels, interleaved [x0, y0, x1, y1, …]: row by row, then column, then anchor. */
export function ssdAnchorCentres(options: SsdAnchorOptions): Float32Array {
  const perLayer = options.aspectRatios.length + (options.interpolatedScaleAspectRatio > 0 ? 1 : 0);
  const centres: number[] = [];
  let layer = 0;
  while (layer < options.strides.length) {
    const stride = options.strides[layer]!;
    let anchorsPerCell = 0;
    while (layer < options.strides.length && options.strides[layer] === stride) {
      anchorsPerCell += perLayer;
      layer += 1;
    }
    const cells = Math.ceil(options.inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        const cx = (x + options.anchorOffset) * stride;
        const cy = (y + options.anchorOffset) * stride;
        for (let a = 0; a < anchorsPerCell; a++) centres.push(cx, cy);
      }
    }
  }
  return Float32Array.from(centres);
}
