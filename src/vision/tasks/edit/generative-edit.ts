import sharp from 'sharp';
import type { Task } from '../../../core/tasks.ts';
import { composeSideBySide } from '../../../media/image.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { GENERATION_SERVING } from '../../engines/engine-choice.ts';
import type { GenerationOperation } from '../../engines/engine.ts';
import { generate, generatedMedia, madeWith, promptOf, sharedSettings, textArg, workingSize } from '../../engines/generation.ts';
import { keepLuminance } from '../../ops/luminance.ts';

/**
 * Edits of the whole picture by words: an instruction ("make it winter"), a style ("watercolor") and
 * colourising. Each is image-to-image on the chosen engine; an engine with an instruction model (FLUX.1
 * Kontext on ComfyUI, gpt-image-1) takes `edit` as an instruction.
 */

interface EditRecipe {
  operations: readonly GenerationOperation[];
  /** How far from the picture by default: an instruction needs room, a colourisation little. */
  strength: number;
  prompt(input: SpecialistInput): string;
  label: string;
  sentence(input: SpecialistInput): string;
}

const instruction: EditRecipe = {
  operations: ['instruct', 'image-to-image'],
  strength: 0.6,
  prompt: promptOf,
  label: 'edited',
  sentence: (input) => `Edited: "${promptOf(input)}"`,
};

const restyle: EditRecipe = {
  operations: ['image-to-image'],
  strength: 0.55,
  prompt: (input) => {
    const style = promptOf(input);
    const what = input.media[0]?.info.generation?.prompt;
    // "watercolor" alone loses the subject on a weak model; the picture's own prompt keeps it.
    return what ? `${what}, in the style of ${style}` : `in the style of ${style}, same scene and composition`;
  },
  label: 'restyled',
  sentence: (input) => `Restyled as ${promptOf(input)}`,
};

const colourise: EditRecipe = {
  operations: ['image-to-image'],
  strength: 0.45,
  prompt: (input) => {
    const hints = textArg(input, 'prompt');
    return `a natural colour photograph, realistic colours${hints ? `, ${hints}` : ''}`;
  },
  label: 'colourised',
  sentence: () => 'Colourised (the light and shade are the original photo’s; the colours are generated)',
};

async function editByWords(
  task: 'edit' | 'style' | 'colorize',
  recipe: EditRecipe,
  input: SpecialistInput,
  context: SpecialistContext,
): Promise<SpecialistResult> {
  checkArgs(task, input.args);
  const source = input.media[0]!;
  const prompt = recipe.prompt(input);
  // A colourisation starts from the grey picture, so the generator cannot copy colours that are not there.
  const image = task === 'colorize' ? await sharp(source.bytes).greyscale().png().toBuffer() : source.bytes;
  const generated = await generate(
    task as Task,
    recipe.operations,
    {
      prompt,
      ...sharedSettings(task, input),
      ...workingSize(source.info.width, source.info.height),
      count: 1,
      image,
      strength: numberArg(task, input.args, 'strength') ?? recipe.strength,
    },
    context,
    { from: 0.05, to: 0.9 },
  );
  if (task === 'colorize') {
    context.progress(0.92, 'keeping the original light and shade');
    const made = generated.result.images[0]!;
    generated.result.images[0] = { ...made, png: await keepLuminance(source.bytes, made.png, context.limits) };
  }
  const media = await generatedMedia(generated, recipe.label);
  media.push({
    bytes: await composeSideBySide(source.bytes, generated.result.images[0]!.png, { limits: context.limits }),
    kind: 'image',
    mime: 'image/png',
    role: 'comparison',
    label: 'before / after',
  });
  return { text: `${recipe.sentence(input)}, ${madeWith(generated)}.`, media };
}

function editSpecialist(task: 'edit' | 'style' | 'colorize', recipe: EditRecipe): Specialist {
  return { tasks: [task], models: [], servedBy: GENERATION_SERVING, run: (input, context) => editByWords(task, recipe, input, context) };
}

export const instructionEditSpecialist = editSpecialist('edit', instruction);
export const styleSpecialist = editSpecialist('style', restyle);
export const colorizeSpecialist = editSpecialist('colorize', colourise);
