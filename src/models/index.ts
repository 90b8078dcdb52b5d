import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { MODEL_CATALOG } from './catalog.js';
import { unknownIdMessage } from './closest.js';
import { readHfConfig } from './hf-config.js';
import type { ModelSpec } from './types.js';

export type { ModelFamily, ModelSpec, MoeSpec, ParameterCounts } from './types.js';
export { parameterCounts, kvBytesPerToken } from './params.js';
export { validateModel } from './validate.js';
export { readHfConfig, modelFromHfConfig, SUPPORTED_HF_ARCHITECTURES } from './hf-config.js';

const BY_ID = new Map(MODEL_CATALOG.map((m) => [m.id, m]));

/** Every built-in model, in catalog order. */
export function listModels(): ModelSpec[] {
  return [...MODEL_CATALOG];
}

export function modelIds(): string[] {
  return MODEL_CATALOG.map((m) => m.id);
}

/** A built-in model by id; unknown ids throw a UserError listing the known ones. */
export function getModel(id: string): ModelSpec {
  const spec = BY_ID.get(id) ?? BY_ID.get(id.toLowerCase());
  if (!spec) throw new UserError(unknownIdMessage('model', id, modelIds()));
  return spec;
}

/**
 * `--model` argument: a path (ends in .json or is an existing file) is read as a HF config, a folder
 * holding config.json (a downloaded snapshot) likewise; anything else is a built-in id.
 */
export function resolveModel(idOrPath: string): ModelSpec {
  const exists = existsSync(idOrPath);
  if (exists && statSync(idOrPath).isDirectory() && existsSync(join(idOrPath, 'config.json'))) {
    return readHfConfig(join(idOrPath, 'config.json'));
  }
  if ((exists && statSync(idOrPath).isFile()) || idOrPath.toLowerCase().endsWith('.json')) return readHfConfig(idOrPath);
  return getModel(idOrPath);
}
export { summarizeModel, type ModelSummary } from './summary.js';
