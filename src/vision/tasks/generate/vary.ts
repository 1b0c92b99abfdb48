import { argSpec } from '../../../core/tasks.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Specialist } from '../../specialist.ts';
import { GENERATION_SERVING } from '../../engines/engine-choice.ts';
import { generate, generatedMedia, madeWith, sharedSettings, textArg, workingSize } from '../../engines/generation.ts';

/** How far a variation moves from its picture when the request does not say: the layout stays, details change. */
const DEFAULT_STRENGTH = 0.6;

/**
 * "give me some variations": image-to-image from the picture with fresh seeds. The prompt is the one that
 * made the picture when it was generated here (so a fox stays a fox), else the user's words, else none.
 */
export const varySpecialist: Specialist = {
  tasks: ['vary'],
  models: [],
  servedBy: GENERATION_SERVING,
  async run(input, context) {
    checkArgs('vary', input.args);
    const source = input.media[0]!;
    const made = source.info.generation;
    const prompt = textArg(input, 'prompt') ?? made?.prompt ?? '';
    const generated = await generate(
      'vary',
      ['image-to-image'],
      {
        prompt,
        ...sharedSettings('vary', input, made?.negativePrompt),
        ...workingSize(source.info.width, source.info.height),
        count: numberArg('vary', input.args, 'count') ?? (argSpec('vary', 'count')?.fallback as number),
        image: source.bytes,
        strength: numberArg('vary', input.args, 'strength') ?? DEFAULT_STRENGTH,
      },
      context,
    );
    const n = generated.result.images.length;
    return {
      text: `Here ${n === 1 ? 'is a variation' : `are ${n} variations`} of the picture, made ${madeWith(generated)}.${n > 1 ? ' Pick one with the buttons, or say "upscale the second one".' : ''}`,
      media: await generatedMedia(generated, 'variation'),
    };
  },
};
