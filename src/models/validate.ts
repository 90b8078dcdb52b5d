import { UserError } from '../errors.js';
import type { ModelSpec } from './types.js';

const KEBAB = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;

function positiveInt(spec: ModelSpec, field: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new UserError(`model '${spec.id}': ${field} must be a whole number greater than 0 (got ${value})`);
  }
}

/** Checks that an architecture is internally consistent; throws a one-line UserError otherwise. */
export function validateModel(spec: ModelSpec): ModelSpec {
  if (!KEBAB.test(spec.id)) throw new UserError(`model id '${spec.id}' must be kebab-case (a-z, 0-9, '-', '.')`);
  positiveInt(spec, 'hiddenSize', spec.hiddenSize);
  positiveInt(spec, 'numLayers', spec.numLayers);
  positiveInt(spec, 'numHeads', spec.numHeads);
  positiveInt(spec, 'numKvHeads', spec.numKvHeads);
  positiveInt(spec, 'headDim', spec.headDim);
  positiveInt(spec, 'vocabSize', spec.vocabSize);
  positiveInt(spec, 'maxContextTokens', spec.maxContextTokens);
  // MoE models may carry an unused dense width; dense ones need a real MLP
  if (spec.moe) {
    if (!Number.isInteger(spec.intermediateSize) || spec.intermediateSize < 0) {
      throw new UserError(`model '${spec.id}': intermediateSize must be a whole number, 0 or more (got ${spec.intermediateSize})`);
    }
  } else {
    positiveInt(spec, 'intermediateSize', spec.intermediateSize);
  }
  if (spec.numHeads % spec.numKvHeads !== 0) {
    throw new UserError(`model '${spec.id}': numHeads (${spec.numHeads}) must be a multiple of numKvHeads (${spec.numKvHeads})`);
  }
  if (spec.slidingWindowTokens !== undefined) positiveInt(spec, 'slidingWindowTokens', spec.slidingWindowTokens);
  const m = spec.moe;
  if (m) {
    positiveInt(spec, 'moe.numExperts', m.numExperts);
    positiveInt(spec, 'moe.expertsPerToken', m.expertsPerToken);
    positiveInt(spec, 'moe.expertIntermediateSize', m.expertIntermediateSize);
    if (m.expertsPerToken > m.numExperts) {
      throw new UserError(`model '${spec.id}': moe.expertsPerToken (${m.expertsPerToken}) exceeds moe.numExperts (${m.numExperts})`);
    }
    if (!Number.isInteger(m.sharedExpertIntermediateSize) || m.sharedExpertIntermediateSize < 0) {
      throw new UserError(`model '${spec.id}': moe.sharedExpertIntermediateSize must be a whole number, 0 or more`);
    }
  }
  return spec;
}
