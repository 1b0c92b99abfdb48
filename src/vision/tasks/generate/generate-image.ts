import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Specialist } from '../../specialist.ts';
import { GENERATION_SERVING } from '../../engines/engine-choice.ts';
import { generate, generatedMedia, madeWith, promptOf, seedOf, sizeForAspect, textArg } from '../../engines/generation.ts';

/** "draw a red fox in the snow": a new picture (or a grid of up to four) from words. */
export const generateImageSpecialist: Specialist = {
  tasks: ['generate_image'],
  models: [],
  servedBy: GENERATION_SERVING,
  async run(input, context) {
    checkArgs('generate_image', input.args);
    const prompt = promptOf(input);
    const negativePrompt = textArg(input, 'negative');
    const count = numberArg('generate_image', input.args, 'count') ?? 1;
    const steps = numberArg('generate_image', input.args, 'steps');
    const generated = await generate(
      'generate_image',
      ['text-to-image'],
      {
        prompt,
        ...(negativePrompt ? { negativePrompt } : {}),
        seed: seedOf(input),
        ...(steps !== undefined ? { steps } : {}),
        ...sizeForAspect(input.args.aspect),
        count,
      },
      context,
    );
    const many = generated.result.images.length > 1;
    return {
      text: `${many ? `Here are ${generated.result.images.length} takes on` : 'Here is'} "${prompt}", made ${madeWith(generated)}.${many ? ' Pick one with the buttons, or say "upscale the second one".' : ''}`,
      media: await generatedMedia(generated, 'generated'),
    };
  },
};
