// Contract placeholder: the GPU runtime (issue 2) fills in timeIteration here.
/** One compute dispatch: a pipeline, its bind groups (index = group) and its workgroup counts. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroups: GPUBindGroup[];
  workgroups: [number, number?, number?];
}
