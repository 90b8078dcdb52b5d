export {
  defaultPowerModel,
  profilePowerModel,
  fleetPowerW,
  powerAtUtilisationW,
  stepPowerW,
  JOULES_PER_WH,
  SECONDS_PER_DAY,
  type PowerDevice,
  type PowerModel,
  type PowerPeaks,
  type MeasuredPower,
} from './power.js';
export { PowerTimeline, integrateSegmentsJ, type PowerSegment, type SegmentKind } from './timeline.js';
export { findPowerReader, fitPowerModel, samplePower, startPowerSampler, type ActivityMark, type PowerFit, type PowerReader, type PowerSample, type PowerSampling } from './sampler.js';
