import type { Command } from 'commander';
import { registerDevices } from './devices.js';
import { registerCalibrate } from './calibrate.js';
import { registerPredict } from './predict.js';
import { registerValidate } from './validate.js';
import { registerAgent } from './agent.js';
import { registerStudy } from './study.js';
import { registerServe } from './serve.js';
import { registerCompare } from './compare.js';
import { registerReport } from './report.js';
import { registerSelfcheck } from './selfcheck.js';

/** Every subcommand, in the order `roofcast --help` lists them. Each file registers one. */
export const commands: ((program: Command) => void)[] = [
  registerPredict,
  registerValidate,
  registerAgent,
  registerStudy,
  registerServe,
  registerCompare,
  registerReport,
  registerDevices,
  registerCalibrate,
  registerSelfcheck,
];
