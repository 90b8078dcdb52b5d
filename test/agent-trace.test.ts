import { describe, expect, it } from 'vitest';
import { parseTraceJsonl, toTraceJsonl } from '../src/agents/trace.js';
import { generateSession } from '../src/agents/generate.js';
import { Rng } from '../src/agents/rng.js';
import { UserError } from '../src/errors.js';

const llm = (over: Record<string, unknown> = {}) => JSON.stringify({ type: 'llm', inputTokens: 1000, outputTokens: 50, ...over });
const tool = (seconds: number) => JSON.stringify({ type: 'tool', seconds });

function errorOf(text: string): string {
  try {
    parseTraceJsonl(text, 'run.jsonl');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected the trace to be rejected');
}

describe('trace JSONL reader', () => {
  it('reads object and array sessions, skipping blank lines, with default ids', () => {
    const text = [`{"id":"q1","steps":[${llm({ cachedPrefixTokens: 800 })},${tool(1.2)},${llm({ parallel: 5 })}]}`, '', `[${llm()}]`, ''].join('\n');
    const sessions = parseTraceJsonl(text);
    expect(sessions).toHaveLength(2);
    expect(sessions[0].id).toBe('q1');
    expect(sessions[0].steps).toHaveLength(3);
    expect(sessions[0].steps[2]).toMatchObject({ type: 'llm', parallel: 5 });
    expect(sessions[1].id).toBe('line-3');
  });

  it('names the file and line of invalid JSON', () => {
    expect(errorOf(`[${llm()}]\n[${llm()}]\n{not json`)).toMatch(/^run\.jsonl:3: not valid JSON/);
  });

  it('names the line and field of a schema error', () => {
    expect(errorOf(`[${llm()}]\n[${llm({ outputTokens: 0 })}]`)).toMatch(/^run\.jsonl:2: steps\[0\]\.outputTokens/);
    expect(errorOf(`[${llm({ inputTokens: 10, cachedPrefixTokens: 20 })}]`)).toMatch(/^run\.jsonl:1: .*cachedPrefixTokens must not exceed inputTokens/);
    expect(errorOf(`[{"type":"sleep","seconds":1}]`)).toMatch(/^run\.jsonl:1: /);
    expect(errorOf(`[${tool(-1)}]`)).toMatch(/^run\.jsonl:1: steps\[0\]\.seconds/);
    expect(errorOf(`[${llm({ extra: 1 })}]`)).toMatch(/^run\.jsonl:1: /);
    expect(errorOf(`{"steps":[]}`)).toMatch(/^run\.jsonl:1: steps: /);
    expect(errorOf(`[${llm()}]\n{"id":"q","steps":[${llm()},${llm({ parallel: 0 })}]}`)).toMatch(/^run\.jsonl:2: steps\[1\]\.parallel/);
    expect(errorOf(`[${llm({ inputTokens: 1.5 })}]`)).toMatch(/^run\.jsonl:1: steps\[0\]\.inputTokens/);
  });

  it('rejects an empty file', () => {
    expect(errorOf('\n\n')).toMatch(/no sessions/);
  });

  it('round-trips generated sessions of every workflow', () => {
    const rng = new Rng(3);
    const sessions = (['sharegpt', 'cot', 'react', 'reflexion', 'lats', 'llmcompiler'] as const).map((w, i) =>
      generateSession(rng, { workflow: w, benchmark: 'humaneval', accuracy: 0.5 }, `s${i}`),
    );
    const back = parseTraceJsonl(toTraceJsonl(sessions));
    expect(back).toEqual(sessions);
  });
});
