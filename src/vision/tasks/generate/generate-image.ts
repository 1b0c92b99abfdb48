import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Specialist } from '../../specialist.ts';
import { GENERATION_SERVING } from '../../engines/engine-choice.ts';
import { generate, generatedMedia, madeWith, promptOf, sharedSettings, sizeForAspect } from '../../engines/generation.ts';

/** "draw a red fox in the snow": a new picture (or a grid of up to four) from words. */
export const generateImageSpecialist: Specialist = {
  tasks: ['generate_image'],
  models: [],
  servedBy: GENERATION_SERVING,
  async run(input, context) {
    checkArgs('generate_image', input.args);
    const prompt = promptOf(input);
    const count = numberArg('generate_image', input.args, 'count') ?? 1;
    const generated = await generate(
      'generate_image',
      ['text-to-image'],
      {
        prompt,
        ...sharedSettings('generate_image', input),
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
