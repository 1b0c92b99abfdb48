import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/planner/plan-schema.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[], input?: string) {
  const result = spawnSync('npx', ['tsx', 'src/planner/cli.ts', ...args], { cwd: root, input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('plan CLI', () => {
  it('prints one JSON plan on one line', () => {
    const { status, stdout } = cli(['--with', 'image', 'crop it to a square and make it black and white']);
    expect(status).toBe(0);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const plan = parsePlan(JSON.parse(stdout));
    expect(plan.invocations.map((i) => [i.task, i.targets])).toEqual([
      ['transform', ['current']],
      ['adjust', ['step:0']],
    ]);
  });

  it('without --with the conversation is empty, so edits ask for media', () => {
    const plan = JSON.parse(cli(['make it brighter']).stdout);
    expect(plan.invocations).toEqual([]);
    expect(plan.reply).toMatch(/upload/i);
  });

  it('plans each stdin line in order and skips blank lines', () => {
    const input = 'image\tmake it brighter\n\nvideo\treverse it\r\nnone\tdraw a red fox in the snow\nimage\tmake it a gif\n';
    const { status, stdout } = cli(['--stdin'], input);
    expect(status).toBe(0);
    const plans = stdout
      .trim()
      .split('\n')
      .map((line) => parsePlan(JSON.parse(line)));
    expect(plans.map((p) => p.invocations[0]?.task ?? 'reply')).toEqual(['adjust', 'reverse', 'generate_image', 'reply']);
    expect(plans[3]!.reply).toMatch(/works on videos/);
  });

  it.each([[['--with', 'audio', 'hi']], [['--frobnicate', 'hi']], [[]], [['--with', 'image']], [['--stdin', 'extra text']]])(
    'exits 2 with a usage line for bad arguments %j',
    (args) => {
      const { status, stdout, stderr } = cli(args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/usage: plan/);
    },
  );

  it('exits 2 without partial output on a malformed stdin line', () => {
    const { status, stdout, stderr } = cli(['--stdin'], 'image\tmake it brighter\naudio\tplay it\n');
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/line 2/);
  });
});
