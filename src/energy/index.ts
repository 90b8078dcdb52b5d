export {
  defaultPowerModel,
  fleetPowerW,
  powerAtUtilisationW,
  stepPowerW,
  JOULES_PER_WH,
  SECONDS_PER_DAY,
  type PowerDevice,
  type PowerModel,
  type PowerPeaks,
} from './power.js';
export { PowerTimeline, integrateSegmentsJ, type PowerSegment, type SegmentKind } from './timeline.js';
export { findPowerReader, fitPowerModel, samplePower, type ActivityMark, type PowerFit, type PowerSample, type PowerSampling } from './sampler.js';
