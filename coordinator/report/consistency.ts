import { elementwiseMedian, relativeL2 } from '../../core/numeric/vectors.ts';

export interface DeviceFingerprint { deviceId: string; vectors: number[][]; exactSha256: string }

export interface ConsistencyResult {
  devices: number;
  /** all devices produced bit-identical pooled outputs */
  identical: boolean;
  tolerance: number;
  /** per device: relative L2 distance of its fingerprint to the per-coordinate median of all devices */
  drift: Array<{ deviceId: string; relL2: number; outlier: boolean }>;
  outliers: string[];
  note?: string;
}

/** Relative L2 tolerance for "same outputs": fp32 on different CPUs and kernels typically differs by 1e-7..1e-5. */
export const DEFAULT_TOLERANCE = 1e-3;

/**
 * The same model, variant and inputs should give the same outputs on every device. Each device's
 * fingerprint is compared with the median fingerprint; above `tolerance` it is an outlier. With two
 * devices the median is their midpoint, so a disagreement flags both: it cannot say which one is wrong.
 */
export function crossDeviceConsistency(fps: readonly DeviceFingerprint[], tolerance = DEFAULT_TOLERANCE): ConsistencyResult {
  const flat = fps.map((f) => f.vectors.flat());
  const width = flat[0]?.length ?? 0;
  if (flat.some((v) => v.length !== width)) throw new Error('fingerprints to compare must have the same shape');
  const reference = fps.length > 0 ? elementwiseMedian(flat) : new Float64Array();
  const drift = fps.map((f, i) => {
    const relL2 = relativeL2(reference, flat[i]);
    return { deviceId: f.deviceId, relL2, outlier: relL2 > tolerance };
  });
  return {
    devices: fps.length,
    identical: fps.every((f) => f.exactSha256 === fps[0].exactSha256),
    tolerance,
    drift,
    outliers: drift.filter((d) => d.outlier).map((d) => d.deviceId),
    ...(fps.length === 2 && drift.some((d) => d.outlier) ? { note: 'two devices disagree; a third device is needed to tell which one is the outlier' } : {}),
  };
}
